-- compatible-from: 17
-- An expand script: builds before it keep working on it; nothing they read or write changes shape.

-- The journal of a turn's steps: what a model answered, what a tool returned. A step's row is written, fenced on the
-- session's epoch, before the next step starts, so that a resumed turn goes on from it and never makes a recorded call
-- again. Rows are written once; they stay as the record of what a turn did, and go with the session.
CREATE TABLE gateway_turn_journal
(
    session_id    text        NOT NULL,
    turn_number   integer     NOT NULL,
    step          integer     NOT NULL,
    kind          text        NOT NULL,
    data          jsonb       NOT NULL,
    input_tokens  bigint,
    output_tokens bigint,
    recorded_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (session_id, turn_number, step)
);

-- What a finished turn's model calls used, summed over its steps; null for a turn without model calls.
ALTER TABLE gateway_transcript ADD COLUMN input_tokens bigint, ADD COLUMN output_tokens bigint;

-- A session's turn events as its clients stream them (GET /api/sessions/{id}/stream): accepted, step finished, tool
-- call and result, completed, failed, interrupted, resumed. Each is written with (or right after) the durable change it
-- tells of; its id is the stream's Last-Event-ID. Live-only output (text as a model streams it) is never stored.
CREATE TABLE gateway_turn_events
(
    event_id    bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    session_id  text        NOT NULL,
    turn_number integer,
    kind        text        NOT NULL,
    data        jsonb       NOT NULL DEFAULT '{}',
    at          timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX gateway_turn_events_session ON gateway_turn_events (session_id, event_id);

-- Every silo listens on one channel and learns which sessions have new events, whoever wrote them; the payload is the
-- session id, and a listener reads what it has not sent yet. Delivered at commit, so a listener never reads ahead of it.
CREATE FUNCTION gateway_turn_events_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('ogw_turn_events', NEW.session_id);
    RETURN NULL;
END
$$;

CREATE TRIGGER gateway_turn_events_notify AFTER INSERT ON gateway_turn_events
    FOR EACH ROW EXECUTE FUNCTION gateway_turn_events_notify();
