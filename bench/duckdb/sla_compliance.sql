-- count(tickets@solved_at where solved_at - created_at <= params.sla_resolution[priority])
--   / count(tickets@solved_at) * 100.
-- sla_resolution: urgent 8h, high 24h, normal 48h, low 96h; another priority
-- has no target (null), which is not "within".
SELECT date_trunc('month', solved_at) AS p, agent_id AS agent,
       count(*) FILTER (WHERE epoch_us(solved_at) - epoch_us(created_at) <=
           CASE priority WHEN 'urgent' THEN 28800000000
                         WHEN 'high'   THEN 86400000000
                         WHEN 'normal' THEN 172800000000
                         WHEN 'low'    THEN 345600000000 END)
         / nullif(count(*), 0) * 100 AS value
FROM tickets
WHERE solved_at >= {from_ts} AND solved_at < {to_ts}
GROUP BY ALL
