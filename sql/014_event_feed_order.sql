-- The events feed is followed with a cursor. An id is taken from its sequence when the row is written, not when its
-- transaction commits: with resume claims committing at once on several silos, an event with a smaller id can become
-- visible after one with a larger id, and a reader already past the larger id would never see it. So each event
-- records the transaction that wrote it, and readers take only events of transactions older than every one still
-- running (the snapshot's xmin), in (transaction, id) order: a cursor on that order never passes an event that
-- becomes visible later.
ALTER TABLE gateway_events ADD COLUMN tx xid8 NOT NULL DEFAULT pg_current_xact_id();
CREATE INDEX gateway_events_feed ON gateway_events (tx, id);

-- For a `resumed` event: how long the session waited between its marker and the claim (the resume lag).
ALTER TABLE gateway_events ADD COLUMN waited interval;
