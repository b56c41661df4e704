-- sum(calls: coalesce(answered_at, ended_at) - queued_at) / count(calls where answered_at is not null),
-- in seconds; by queued_at.
SELECT date_trunc('month', queued_at) AS p, agent_id AS agent,
       coalesce(sum(epoch_us(coalesce(answered_at, ended_at)) - epoch_us(queued_at)), 0) / 1e6
         / nullif(count(*) FILTER (WHERE answered_at IS NOT NULL), 0) AS value
FROM calls
WHERE queued_at >= {from_ts} AND queued_at < {to_ts}
GROUP BY ALL
