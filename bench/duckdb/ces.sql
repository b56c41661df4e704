-- avg(surveys: score where kind == "ces").
SELECT date_trunc('month', created_at) AS p, agent_id AS agent,
       avg(score) FILTER (WHERE kind = 'ces') AS value
FROM surveys
WHERE created_at >= {from_ts} AND created_at < {to_ts}
GROUP BY ALL
