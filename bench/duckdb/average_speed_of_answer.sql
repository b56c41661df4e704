-- avg(calls: answered_at - queued_at), in seconds; by queued_at, unanswered left out.
SELECT date_trunc('month', queued_at) AS p, agent_id AS agent,
       avg(epoch_us(answered_at) - epoch_us(queued_at)) / 1e6 AS value
FROM calls
WHERE queued_at >= {from_ts} AND queued_at < {to_ts}
GROUP BY ALL
