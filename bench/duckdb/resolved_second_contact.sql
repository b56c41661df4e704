-- count(tickets@solved_at where contacts == 2).
SELECT date_trunc('month', solved_at) AS p, agent_id AS agent,
       count(*) FILTER (WHERE contacts = 2)::DOUBLE AS value
FROM tickets
WHERE solved_at >= {from_ts} AND solved_at < {to_ts}
GROUP BY ALL
