-- A sweeper that picks sessions to resume leases them for a short time, so that the sweepers of several
-- silos spread the work instead of all calling the same sessions. The lease is only a hint: exactly-once
-- comes from the grain's compare-and-set on epoch and phase, never from the lease.
ALTER TABLE gateway_sessions ADD COLUMN resume_lease_until timestamptz;
ALTER TABLE gateway_sessions ADD COLUMN resume_leased_by text;
