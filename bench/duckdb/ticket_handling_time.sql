-- avg(tickets@solved_at: handle_time), in minutes (handle_time: seconds; nulls left out).
SELECT date_trunc('month', solved_at) AS p, agent_id AS agent,
       avg(handle_time) / 60 AS value
FROM tickets
WHERE solved_at >= {from_ts} AND solved_at < {to_ts}
GROUP BY ALL
