-- count(tickets@solved_at where contacts == 1) / count(tickets@solved_at: contacts) * 100.
SELECT date_trunc('month', solved_at) AS p, agent_id AS agent,
       count(*) FILTER (WHERE contacts = 1) / nullif(count(contacts), 0) * 100 AS value
FROM tickets
WHERE solved_at >= {from_ts} AND solved_at < {to_ts}
GROUP BY ALL
