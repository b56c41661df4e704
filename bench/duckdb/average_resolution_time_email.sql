-- avg(tickets@solved_at: solved_at - created_at where channel == "email"), in hours.
SELECT date_trunc('month', solved_at) AS p, agent_id AS agent,
       avg(epoch_us(solved_at) - epoch_us(created_at)) FILTER (WHERE channel = 'email') / 3600e6 AS value
FROM tickets
WHERE solved_at >= {from_ts} AND solved_at < {to_ts}
GROUP BY ALL
