-- 100 - next_issue_rate (next_issue_rate.sql).
WITH w AS (
    SELECT created_at, agent_id, customer_id,
           lag(created_at) OVER (PARTITION BY customer_id ORDER BY created_at, rowid) AS prev_at
    FROM tickets
)
SELECT date_trunc('month', created_at) AS p, agent_id AS agent,
       100 - count(DISTINCT customer_id) FILTER (WHERE epoch_us(created_at) - epoch_us(prev_at) <= 604800000000)
         / nullif(count(DISTINCT customer_id), 0) * 100 AS value
FROM w
WHERE created_at >= {from_ts} AND created_at < {to_ts}
GROUP BY ALL
