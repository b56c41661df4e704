-- answered_calls / agent_shift_hours:
--   count(calls@answered_at) / sum(agent_shifts: hours(end_at - start_at)) (by start_at).
-- The two passes meet on the grid (full join); no shift: 0 hours, and x / 0 is null.
WITH c AS (
    SELECT date_trunc('month', answered_at) AS p, agent_id AS agent, count(*) AS n
    FROM calls
    WHERE answered_at >= {from_ts} AND answered_at < {to_ts}
    GROUP BY ALL
), s AS (
    SELECT date_trunc('month', start_at) AS p, agent_id AS agent,
           sum((epoch_us(end_at) - epoch_us(start_at)) / 3600e6) AS h
    FROM agent_shifts
    WHERE start_at >= {from_ts} AND start_at < {to_ts}
    GROUP BY ALL
)
SELECT coalesce(c.p, s.p) AS p, CASE WHEN c.p IS NULL THEN s.agent ELSE c.agent END AS agent,
       coalesce(c.n, 0) / nullif(s.h, 0) AS value
FROM c FULL JOIN s ON s.p = c.p AND s.agent IS NOT DISTINCT FROM c.agent
