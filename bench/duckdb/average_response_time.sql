-- avg(messages: created_at - prev(created_at by ticket_id)
--     where author_role == "agent" and prev(author_role by ticket_id) == "customer"),
-- in minutes. prev runs over the whole table before the period filter, ordered
-- by created_at, ties by row order; grouped by the message's agent_id.
WITH w AS (
    SELECT created_at, author_role, agent_id,
           lag(created_at)  OVER win AS prev_at,
           lag(author_role) OVER win AS prev_role
    FROM messages
    WINDOW win AS (PARTITION BY ticket_id ORDER BY created_at, rowid)
)
SELECT date_trunc('month', created_at) AS p, agent_id AS agent,
       avg(CASE WHEN author_role = 'agent' AND prev_role = 'customer'
                THEN epoch_us(created_at) - epoch_us(prev_at) END) / 60e6 AS value
FROM w
WHERE created_at >= {from_ts} AND created_at < {to_ts}
GROUP BY ALL
