-- count_distinct(tickets: customer_id where created_at - prev(created_at by customer_id) <= params.next_issue_window)
--   / count_distinct(tickets: customer_id) * 100; by created_at, next_issue_window 7d.
-- prev runs over the whole table before the period filter, ordered by
-- created_at, ties by row order.
WITH w AS (
    SELECT created_at, agent_id, customer_id,
           lag(created_at) OVER (PARTITION BY customer_id ORDER BY created_at, rowid) AS prev_at
    FROM tickets
)
SELECT date_trunc('month', created_at) AS p, agent_id AS agent,
       count(DISTINCT customer_id) FILTER (WHERE epoch_us(created_at) - epoch_us(prev_at) <= 604800000000)
         / nullif(count(DISTINCT customer_id), 0) * 100 AS value
FROM w
WHERE created_at >= {from_ts} AND created_at < {to_ts}
GROUP BY ALL
