-- avg(messages: created_at - prev(created_at by ticket_id) where author_role == "agent"
--     and prev(author_role by ticket_id) == "customer" and ticket.channel == "chat"), in seconds.
-- prev over the whole table before the period filter (as average_response_time);
-- ticket.channel through the messages -> tickets relation (no ticket: null, not chat).
-- The channel is the same for every message of a ticket, and prev looks only
-- within a ticket, so the messages of chat tickets are kept before the window.
WITH w AS (
    SELECT m.created_at, m.author_role, m.agent_id,
           lag(m.created_at)  OVER win AS prev_at,
           lag(m.author_role) OVER win AS prev_role
    FROM messages m
    SEMI JOIN (SELECT id FROM tickets WHERE channel = 'chat') t ON t.id = m.ticket_id
    WINDOW win AS (PARTITION BY m.ticket_id ORDER BY m.created_at, m.rowid)
)
SELECT date_trunc('month', created_at) AS p, agent_id AS agent,
       avg(CASE WHEN author_role = 'agent' AND prev_role = 'customer'
                THEN epoch_us(created_at) - epoch_us(prev_at) END) / 1e6 AS value
FROM w
WHERE created_at >= {from_ts} AND created_at < {to_ts}
GROUP BY ALL
