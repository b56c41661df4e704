-- sum(tickets@solved_at: count(messages where author_role == "agent"))
--   / count(tickets@solved_at); a ticket's agent messages count whenever sent.
WITH touches AS (
    SELECT ticket_id, count(*) AS n
    FROM messages
    WHERE author_role = 'agent'
    GROUP BY ticket_id
)
SELECT date_trunc('month', t.solved_at) AS p, t.agent_id AS agent,
       coalesce(sum(m.n), 0) / nullif(count(*), 0) AS value
FROM tickets t
LEFT JOIN touches m ON m.ticket_id = t.id
WHERE t.solved_at >= {from_ts} AND t.solved_at < {to_ts}
GROUP BY ALL
