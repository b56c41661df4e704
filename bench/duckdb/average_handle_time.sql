-- avg(calls: talk_time + hold_time + wrap_time where answered_at is not null), in minutes;
-- by queued_at (durations in seconds).
SELECT date_trunc('month', queued_at) AS p, agent_id AS agent,
       avg(talk_time + hold_time + wrap_time) FILTER (WHERE answered_at IS NOT NULL) / 60 AS value
FROM calls
WHERE queued_at >= {from_ts} AND queued_at < {to_ts}
GROUP BY ALL
