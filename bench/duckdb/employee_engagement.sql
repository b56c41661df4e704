-- (count(employee_surveys where enps_score >= 9) - count(employee_surveys where enps_score <= 6))
--   / count(employee_surveys) * 100; by created_at.
SELECT date_trunc('month', created_at) AS p, agent_id AS agent,
       (count(*) FILTER (WHERE enps_score >= 9) - count(*) FILTER (WHERE enps_score <= 6))
         / nullif(count(*), 0) * 100 AS value
FROM employee_surveys
WHERE created_at >= {from_ts} AND created_at < {to_ts}
GROUP BY ALL
