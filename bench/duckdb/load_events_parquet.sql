-- Loads messages and surveys from the generated Parquet files (see
-- load_parquet.sql for how timestamps are read), for the ten KPIs and the
-- full suite alike. Placeholders filled by duckdb_suite.py: {data}.

-- rowid keeps file order, which breaks ties between messages of a ticket
-- sent in the same second (single-threaded reads keep the file's order).
CREATE TABLE messages AS
SELECT ticket_id, created_at, author_role, agent_id
FROM read_parquet('{data}/messages.parquet');

CREATE TABLE surveys AS
SELECT local_ts(created_at) AS created_at, kind, CAST(score AS INTEGER) AS score, agent_id
FROM read_parquet('{data}/surveys.parquet');
