-- The gateway's own table: one small row per session, the queryable index of the resume lifecycle.
-- Grain state (inbox, turns, replies) lives in Orleans storage; this row is what set-based writes
-- (the premark at shutdown, the resume sweeper) can touch without breaking the grain's ETag.

CREATE TABLE gateway_sessions
(
    session_id        text        NOT NULL PRIMARY KEY,
    phase             text        NOT NULL DEFAULT 'idle'
        CHECK (phase IN ('idle', 'running', 'resume_pending', 'suspended', 'quarantined')),
    -- Silo address with generation (SiloAddress.ToParsableString(): "10.0.0.5:11111@123456789"),
    -- so a restarted silo on the same endpoint is a different owner.
    owner_silo        text,
    -- Fencing token. Every grain write carries the epoch it claimed; a write that matches zero rows
    -- tells the writer it was superseded (another activation, a resume claim) and must stop.
    epoch             bigint      NOT NULL DEFAULT 0,
    active_turn_id    text,
    resume_reason     text,
    premark_stop_id   uuid,
    -- Written once per interruption, never refreshed by bookkeeping: it drives the freshness window.
    resume_marked_at  timestamptz,
    resume_attempts   integer     NOT NULL DEFAULT 0,
    last_error        text,
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now()
);

-- "Everything this silo owns that has work": the premark's and crash detection's lookup.
CREATE INDEX gateway_sessions_owner_running
    ON gateway_sessions (owner_silo)
    WHERE phase = 'running';

-- "Everything waiting to be resumed", oldest first: the sweeper's claim queue.
CREATE INDEX gateway_sessions_resume_pending
    ON gateway_sessions (resume_marked_at)
    WHERE phase = 'resume_pending';

-- Operator listings page by phase.
CREATE INDEX gateway_sessions_phase ON gateway_sessions (phase, session_id);
