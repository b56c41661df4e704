-- avg(qa_reviews: score where channel == "phone"); by reviewed_at.
SELECT date_trunc('month', reviewed_at) AS p, agent_id AS agent,
       avg(score) FILTER (WHERE channel = 'phone') AS value
FROM qa_reviews
WHERE reviewed_at >= {from_ts} AND reviewed_at < {to_ts}
GROUP BY ALL
