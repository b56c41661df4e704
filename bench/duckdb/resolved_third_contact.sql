-- count(tickets@solved_at where contacts >= 3).
SELECT date_trunc('month', solved_at) AS p, agent_id AS agent,
       count(*) FILTER (WHERE contacts >= 3)::DOUBLE AS value
FROM tickets
WHERE solved_at >= {from_ts} AND solved_at < {to_ts}
GROUP BY ALL
