-- compatible-from: 16
-- An expand script: release 0.1 and 0.2 builds before it keep working on it; nothing they read or write changes shape.

-- A session's finished turns, one row each, written once when the turn ends (in the statement that ends it in the
-- ledger) and never updated. The grain state keeps only the unfinished ones, so that what a message costs does not
-- grow with the history. Turn numbers are a session's t1, t2, ...: never reused, so they order and page the history.
CREATE TABLE gateway_transcript
(
    session_id   text        NOT NULL,
    turn_number  integer     NOT NULL,
    message_id   text        NOT NULL,
    text         text        NOT NULL,
    status       text        NOT NULL CHECK (status IN ('completed', 'failed')),
    steps_done   integer     NOT NULL,
    steps_total  integer,
    executions   integer     NOT NULL,
    reply        text,
    error        text,
    accepted_at  timestamptz NOT NULL,
    finished_at  timestamptz,
    PRIMARY KEY (session_id, turn_number)
);

-- A repeated message id finds the turn it started, however long ago.
CREATE INDEX gateway_transcript_message ON gateway_transcript (session_id, message_id);
