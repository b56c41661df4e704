-- (count(surveys where kind == "nps" and score >= 9) - count(surveys where kind == "nps" and score <= 6))
--   / count(surveys where kind == "nps") * 100.
SELECT date_trunc('month', created_at) AS p, agent_id AS agent,
       (count(*) FILTER (WHERE kind = 'nps' AND score >= 9) - count(*) FILTER (WHERE kind = 'nps' AND score <= 6))
         / nullif(count(*) FILTER (WHERE kind = 'nps'), 0) * 100 AS value
FROM surveys
WHERE created_at >= {from_ts} AND created_at < {to_ts}
GROUP BY ALL
