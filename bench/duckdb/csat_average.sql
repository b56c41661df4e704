-- avg(surveys: score where kind == "csat").
SELECT date_trunc('month', created_at) AS p, agent_id AS agent,
       avg(score) FILTER (WHERE kind = 'csat') AS value
FROM surveys
WHERE created_at >= {from_ts} AND created_at < {to_ts}
GROUP BY ALL
