-- Loads the columns the KPI suite reads from the generated Parquet files
-- (`kpi generate --format parquet`) into DuckDB tables, with every timestamp
-- as an instant (TIMESTAMPTZ): the same tables as load.sql makes from CSV.
-- Placeholders filled by duckdb_suite.py: {data} (the data directory).
--
-- The generator writes local wall times as TIMESTAMP(MICROS) not adjusted to
-- UTC, which DuckDB reads as TIMESTAMP; they go through local_ts
-- (local_ts.sql, run first: an ambiguous time is its first occurrence, as
-- kpi reads it). messages.created_at is adjusted to UTC: DuckDB reads it as
-- TIMESTAMPTZ.

CREATE TABLE tickets AS
SELECT id,
       local_ts(created_at)        AS created_at,
       local_ts(first_response_at) AS first_response_at,
       local_ts(solved_at)         AS solved_at,
       priority, agent_id, escalated, CAST(contacts AS INTEGER) AS contacts
FROM read_parquet('{data}/tickets.parquet');
