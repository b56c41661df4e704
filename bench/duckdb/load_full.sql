-- Loads the columns the full built-in suite reads (bench/suite.py FULL: every
-- built-in KPI whose tables have an agent dimension) from the generated CSV
-- files, with every timestamp as an instant (TIMESTAMPTZ), as load.sql does
-- for the ten KPIs of SUITE (tickets here has more columns; calls,
-- qa_reviews, agent_shifts and employee_surveys are added; messages and
-- surveys come from load_events.sql). Durations
-- (handle_time, talk_time, hold_time, wrap_time) are whole seconds.
-- Placeholders filled by duckdb_suite.py: {data} (the data directory).

CREATE TABLE tickets AS
SELECT id,
       local_ts(created_at)        AS created_at,
       local_ts(assigned_at)       AS assigned_at,
       local_ts(first_response_at) AS first_response_at,
       local_ts(solved_at)         AS solved_at,
       channel, priority, agent_id, customer_id, escalated, contacts,
       handle_time, help_center_resolvable
FROM read_csv('{data}/tickets.csv', header = true, auto_detect = false,
    timestampformat = '%Y-%m-%d %H:%M:%S',
    columns = {
        'id': 'VARCHAR', 'created_at': 'TIMESTAMP', 'assigned_at': 'TIMESTAMP',
        'first_response_at': 'TIMESTAMP', 'solved_at': 'TIMESTAMP',
        'status': 'VARCHAR', 'channel': 'VARCHAR', 'priority': 'VARCHAR',
        'agent_id': 'VARCHAR', 'team': 'VARCHAR', 'customer_id': 'VARCHAR',
        'escalated': 'BOOLEAN', 'reopened': 'VARCHAR', 'contacts': 'INTEGER',
        'handle_time': 'BIGINT', 'help_center_resolvable': 'BOOLEAN'});

CREATE TABLE calls AS
SELECT agent_id,
       local_ts(queued_at)   AS queued_at,
       local_ts(answered_at) AS answered_at,
       local_ts(ended_at)    AS ended_at,
       talk_time, hold_time, wrap_time
FROM read_csv('{data}/calls.csv', header = true, auto_detect = false,
    timestampformat = '%Y-%m-%d %H:%M:%S',
    columns = {
        'id': 'VARCHAR', 'ticket_id': 'VARCHAR', 'agent_id': 'VARCHAR',
        'queued_at': 'TIMESTAMP', 'answered_at': 'TIMESTAMP', 'ended_at': 'TIMESTAMP',
        'talk_time': 'BIGINT', 'hold_time': 'BIGINT', 'wrap_time': 'BIGINT'});

CREATE TABLE qa_reviews AS
SELECT agent_id, channel, local_ts(reviewed_at) AS reviewed_at, score
FROM read_csv('{data}/qa_reviews.csv', header = true, auto_detect = false,
    timestampformat = '%Y-%m-%d %H:%M:%S',
    columns = {
        'id': 'VARCHAR', 'ticket_id': 'VARCHAR', 'agent_id': 'VARCHAR',
        'channel': 'VARCHAR', 'reviewed_at': 'TIMESTAMP', 'score': 'DOUBLE'});

CREATE TABLE agent_shifts AS
SELECT agent_id, local_ts(start_at) AS start_at, local_ts(end_at) AS end_at
FROM read_csv('{data}/agent_shifts.csv', header = true, auto_detect = false,
    timestampformat = '%Y-%m-%d %H:%M:%S',
    columns = {
        'agent_id': 'VARCHAR', 'team': 'VARCHAR',
        'start_at': 'TIMESTAMP', 'end_at': 'TIMESTAMP'});

CREATE TABLE employee_surveys AS
SELECT agent_id, local_ts(created_at) AS created_at, enps_score
FROM read_csv('{data}/employee_surveys.csv', header = true, auto_detect = false,
    timestampformat = '%Y-%m-%d %H:%M:%S',
    columns = {
        'id': 'VARCHAR', 'agent_id': 'VARCHAR', 'team': 'VARCHAR',
        'created_at': 'TIMESTAMP', 'enps_score': 'INTEGER'});
