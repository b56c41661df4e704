-- Loads messages and surveys from the generated CSV files, for the ten KPIs
-- (after load.sql) and the full suite (after load_full.sql) alike.
-- Placeholders filled by duckdb_suite.py: {data} (the data directory).

-- messages.created_at carries its offset (RFC 3339). rowid keeps file order,
-- which breaks ties between messages of a ticket sent in the same second
-- (kpi: windows are ordered by the time column, ties by row order).
CREATE TABLE messages AS
SELECT ticket_id, created_at, author_role, agent_id
FROM read_csv('{data}/messages.csv', header = true, auto_detect = false,
    columns = {
        'id': 'VARCHAR', 'ticket_id': 'VARCHAR', 'created_at': 'TIMESTAMPTZ',
        'author_role': 'VARCHAR', 'agent_id': 'VARCHAR', 'body': 'VARCHAR'});

CREATE TABLE surveys AS
SELECT local_ts(created_at) AS created_at, kind, score, agent_id
FROM read_csv('{data}/surveys.csv', header = true, auto_detect = false,
    timestampformat = '%Y-%m-%d %H:%M:%S',
    columns = {
        'id': 'VARCHAR', 'ticket_id': 'VARCHAR', 'customer_id': 'VARCHAR',
        'agent_id': 'VARCHAR', 'channel': 'VARCHAR', 'created_at': 'TIMESTAMP',
        'kind': 'VARCHAR', 'score': 'INTEGER'});
