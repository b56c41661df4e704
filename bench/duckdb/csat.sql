-- count(surveys where kind == "csat" and score >= 4) / count(surveys where kind == "csat") * 100.
SELECT date_trunc('month', created_at) AS p, agent_id AS agent,
       count(*) FILTER (WHERE kind = 'csat' AND score >= 4)
         / nullif(count(*) FILTER (WHERE kind = 'csat'), 0) * 100 AS value
FROM surveys
WHERE created_at >= {from_ts} AND created_at < {to_ts}
GROUP BY ALL
