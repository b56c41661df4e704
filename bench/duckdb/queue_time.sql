-- avg(tickets: assigned_at - created_at), in minutes; by created_at, unassigned left out.
SELECT date_trunc('month', created_at) AS p, agent_id AS agent,
       avg(epoch_us(assigned_at) - epoch_us(created_at)) / 60e6 AS value
FROM tickets
WHERE created_at >= {from_ts} AND created_at < {to_ts}
GROUP BY ALL
