-- count(tickets where first_response_at - created_at <= params.sla_first_response[priority])
--   / count(tickets) * 100; by created_at.
-- sla_first_response: urgent 1h, high 4h, normal 24h, low 48h; another priority
-- (or no response) is not "within".
SELECT date_trunc('month', created_at) AS p, agent_id AS agent,
       count(*) FILTER (WHERE epoch_us(first_response_at) - epoch_us(created_at) <=
           CASE priority WHEN 'urgent' THEN 3600000000
                         WHEN 'high'   THEN 14400000000
                         WHEN 'normal' THEN 86400000000
                         WHEN 'low'    THEN 172800000000 END)
         / nullif(count(*), 0) * 100 AS value
FROM tickets
WHERE created_at >= {from_ts} AND created_at < {to_ts}
GROUP BY ALL
