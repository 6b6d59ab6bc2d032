-- compatible-from: 20
-- An expand script: builds before it keep working on it; nothing they read or write changes shape.

-- Which silo serves a stream of which session. A notification costs every notifying commit a cluster-wide lock and
-- every listening silo a wake-up, so a session's events and live output notify only while some silo streams it: the
-- silo writes its row when a stream opens and renews it while any is open; a row past its lease is ignored and pruned.
CREATE TABLE gateway_stream_watchers
(
    session_id text        NOT NULL,
    silo       text        NOT NULL,
    until      timestamptz NOT NULL,
    PRIMARY KEY (session_id, silo)
);

-- The shared lock on the session's key (space 28535, ASCII "ow") is held to the commit: a silo that starts watching
-- takes it exclusively, so it waits for every event of the session that may have found no watcher, and then reads it.
CREATE OR REPLACE FUNCTION gateway_turn_events_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_advisory_xact_lock_shared(28535, hashtext(NEW.session_id));
    IF EXISTS (SELECT 1 FROM gateway_stream_watchers WHERE session_id = NEW.session_id AND until > now()) THEN
        PERFORM pg_notify('ogw_turn_events', NEW.session_id);
    END IF;
    RETURN NULL;
END
$$;
