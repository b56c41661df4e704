-- avg(messages: created_at - prev(created_at by ticket_id) where author_role == "agent"
--     and prev(author_role by ticket_id) == "customer" and ticket.channel == "chat"), in seconds.
-- prev over the whole table before the period filter (as average_response_time);
-- ticket.channel through the messages -> tickets relation (no ticket: null, not chat).
WITH w AS (
    SELECT created_at, author_role, agent_id, ticket_id,
           lag(created_at)  OVER win AS prev_at,
           lag(author_role) OVER win AS prev_role
    FROM messages
    WINDOW win AS (PARTITION BY ticket_id ORDER BY created_at, rowid)
)
SELECT date_trunc('month', w.created_at) AS p, w.agent_id AS agent,
       avg(CASE WHEN w.author_role = 'agent' AND w.prev_role = 'customer' AND t.channel = 'chat'
                THEN epoch_us(w.created_at) - epoch_us(w.prev_at) END) / 1e6 AS value
FROM w
LEFT JOIN tickets t ON t.id = w.ticket_id
WHERE w.created_at >= {from_ts} AND w.created_at < {to_ts}
GROUP BY ALL
