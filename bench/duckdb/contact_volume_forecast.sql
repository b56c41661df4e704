-- forecast(tickets, 3): Holt's linear trend method (level weight 0.5, trend
-- weight 0.3) over count(tickets) per period (by created_at), per agent.
-- The series is the grid's: every agent of the query (grid_agents, filled by
-- duckdb_suite.py with the agents of the other KPIs' results, plus this
-- query's) in every period, a count of 0 where there is no ticket. Period i
-- shows the one-step forecast from periods 0..i-1 (null in the first); the
-- result gains 3 periods after the range holding level + k * trend from all.
-- The level starts at the first period's count, the trend at 0.
WITH RECURSIVE
n AS (
    SELECT date_trunc('month', created_at) AS p, agent_id AS agent, count(*) AS c
    FROM tickets
    WHERE created_at >= {from_ts} AND created_at < {to_ts}
    GROUP BY ALL
),
a AS (SELECT agent FROM grid_agents UNION SELECT agent FROM n),
s AS (SELECT (row_number() OVER (ORDER BY p) - 1)::INTEGER AS i, p FROM periods),
y AS (
    SELECT a.agent, s.i, coalesce(n.c, 0)::DOUBLE AS y
    FROM a CROSS JOIN s
    LEFT JOIN n ON n.p = s.p AND n.agent IS NOT DISTINCT FROM a.agent
),
h(agent, i, l, b) AS (
    SELECT agent, 0, y, 0.0::DOUBLE FROM y WHERE i = 0
    UNION ALL
    SELECT h.agent, h.i + 1,
           0.5 * y.y + 0.5 * (h.l + h.b),
           0.3 * ((0.5 * y.y + 0.5 * (h.l + h.b)) - h.l) + 0.7 * h.b
    FROM h JOIN y ON y.agent IS NOT DISTINCT FROM h.agent AND y.i = h.i + 1
),
last AS (SELECT max(i) AS i FROM s)
-- In range: period i + 1 gets the state after period i; period 0 is null.
SELECT s.p, a.agent, h.l + h.b AS value
FROM a CROSS JOIN s
LEFT JOIN h ON h.agent IS NOT DISTINCT FROM a.agent AND h.i = s.i - 1
UNION ALL
-- After the range: k = 1, 2, 3 periods ahead of the last state.
SELECT {to_ts} + INTERVAL (k - 1) MONTH AS p, h.agent, h.l + h.b * k AS value
FROM h, last, range(1, 4) r(k)
WHERE h.i = last.i
