-- count(tickets@period.end): open at the instant the period ends,
-- created_at < end <= solved_at (or solved_at empty); the same count as backlog.
SELECT p.p, t.agent_id AS agent, count(*)::DOUBLE AS value
FROM periods p
JOIN tickets t
  ON t.created_at < p.pe
 AND coalesce(t.solved_at, TIMESTAMPTZ 'infinity') >= p.pe
GROUP BY ALL
