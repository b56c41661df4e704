-- count(tickets where escalated) / count(tickets) * 100; by created_at.
SELECT date_trunc('month', created_at) AS p, agent_id AS agent,
       count(*) FILTER (WHERE escalated) / nullif(count(*), 0) * 100 AS value
FROM tickets
WHERE created_at >= {from_ts} AND created_at < {to_ts}
GROUP BY ALL
