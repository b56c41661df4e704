-- count(tickets@solved_at where least(first_response_at, solved_at) - created_at > params.sla_breach_first_response
--                             or solved_at - created_at > params.sla_resolution[priority])
--   / count(tickets@solved_at) * 100.
-- sla_breach_first_response 20m; least skips nulls (solved_at is never null here);
-- `or` is three-valued, like SQL's (an unknown priority: null, breached only by the first test).
SELECT date_trunc('month', solved_at) AS p, agent_id AS agent,
       count(*) FILTER (WHERE
           epoch_us(least(coalesce(first_response_at, solved_at), solved_at)) - epoch_us(created_at) > 1200000000
        OR epoch_us(solved_at) - epoch_us(created_at) >
           CASE priority WHEN 'urgent' THEN 28800000000
                         WHEN 'high'   THEN 86400000000
                         WHEN 'normal' THEN 172800000000
                         WHEN 'low'    THEN 345600000000 END)
         / nullif(count(*), 0) * 100 AS value
FROM tickets
WHERE solved_at >= {from_ts} AND solved_at < {to_ts}
GROUP BY ALL
