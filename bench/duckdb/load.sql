-- Loads the columns the KPI suite reads from the generated CSV files into
-- DuckDB tables, with every timestamp as an instant (TIMESTAMPTZ).
-- Placeholders filled by duckdb_suite.py: {data} (the data directory).
-- Naive timestamps are local times in the project zone, read through
-- local_ts (local_ts.sql, run first).

CREATE TABLE tickets AS
SELECT id,
       local_ts(created_at)        AS created_at,
       local_ts(first_response_at) AS first_response_at,
       local_ts(solved_at)         AS solved_at,
       priority, agent_id, escalated, contacts
FROM read_csv('{data}/tickets.csv', header = true, auto_detect = false,
    timestampformat = '%Y-%m-%d %H:%M:%S',
    columns = {
        'id': 'VARCHAR', 'created_at': 'TIMESTAMP', 'assigned_at': 'VARCHAR',
        'first_response_at': 'TIMESTAMP', 'solved_at': 'TIMESTAMP',
        'status': 'VARCHAR', 'channel': 'VARCHAR', 'priority': 'VARCHAR',
        'agent_id': 'VARCHAR', 'team': 'VARCHAR', 'customer_id': 'VARCHAR',
        'escalated': 'BOOLEAN', 'reopened': 'VARCHAR', 'contacts': 'INTEGER',
        'handle_time': 'VARCHAR', 'help_center_resolvable': 'VARCHAR'});
