-- compatible-from: 19
-- An expand script: builds before it keep working on it; nothing they read or write changes shape.

-- The operators' attention list reads the sessions in a phase that needs a person or with a last error. The phase has
-- its index (010); this one lets PostgreSQL combine the two instead of reading every session at every refresh.
CREATE INDEX gateway_sessions_last_error ON gateway_sessions (session_id) WHERE last_error IS NOT NULL;

-- Whether a silo left or died is told by its events, which have no session: a sweeper asks it once per dead silo.
CREATE INDEX gateway_events_silo ON gateway_events (silo, kind) WHERE session_id IS NULL;
