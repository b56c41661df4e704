-- count(tickets@solved_at where help_center_resolvable) / count(tickets@solved_at) * 100
-- (an empty help_center_resolvable is not true).
SELECT date_trunc('month', solved_at) AS p, agent_id AS agent,
       count(*) FILTER (WHERE help_center_resolvable) / nullif(count(*), 0) * 100 AS value
FROM tickets
WHERE solved_at >= {from_ts} AND solved_at < {to_ts}
GROUP BY ALL
