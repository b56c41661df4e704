-- The tables of load_full.sql (the full built-in suite) from the generated
-- Parquet files (`kpi generate --format parquet`); see load_parquet.sql for
-- how timestamps are read. Durations are whole seconds (BIGINT).
-- Placeholders filled by duckdb_suite.py: {data} (the data directory).

CREATE TABLE tickets AS
SELECT id,
       local_ts(created_at)        AS created_at,
       local_ts(assigned_at)       AS assigned_at,
       local_ts(first_response_at) AS first_response_at,
       local_ts(solved_at)         AS solved_at,
       channel, priority, agent_id, customer_id, escalated,
       CAST(contacts AS INTEGER) AS contacts, handle_time, help_center_resolvable
FROM read_parquet('{data}/tickets.parquet');

CREATE TABLE calls AS
SELECT agent_id,
       local_ts(queued_at)   AS queued_at,
       local_ts(answered_at) AS answered_at,
       local_ts(ended_at)    AS ended_at,
       talk_time, hold_time, wrap_time
FROM read_parquet('{data}/calls.parquet');

CREATE TABLE qa_reviews AS
SELECT agent_id, channel, local_ts(reviewed_at) AS reviewed_at, score
FROM read_parquet('{data}/qa_reviews.parquet');

CREATE TABLE agent_shifts AS
SELECT agent_id, local_ts(start_at) AS start_at, local_ts(end_at) AS end_at
FROM read_parquet('{data}/agent_shifts.parquet');

CREATE TABLE employee_surveys AS
SELECT agent_id, local_ts(created_at) AS created_at, CAST(enps_score AS INTEGER) AS enps_score
FROM read_parquet('{data}/employee_surveys.parquet');
