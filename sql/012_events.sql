-- The history operators read: premarks, drains, crash detections, resumes, quarantines and every operator
-- action with who took it. Append-only; written by silos and the dashboard, read by the dashboard.
CREATE TABLE gateway_events
(
    id         bigserial   NOT NULL PRIMARY KEY,
    at         timestamptz NOT NULL DEFAULT now(),
    kind       text        NOT NULL,
    session_id text,
    silo       text,
    actor      text,
    detail     text        NOT NULL DEFAULT ''
);

-- A session's own history, newest first.
CREATE INDEX gateway_events_session ON gateway_events (session_id, id DESC) WHERE session_id IS NOT NULL;
