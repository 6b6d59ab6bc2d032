-- How many times the active turn was started, as far as resume claims know: each claim counts one more start in
-- the same statement that takes the session, so a resumed turn need not write its grain state before it works
-- (its first checkpoint records the count there). A claim counts on from the larger of this and the count in the
-- grain state, which a turn started otherwise (a new message, a lifted suspension) writes before its work; both are
-- lower bounds of the truth and the newest start is exact in one of them. 0 for rows written before this script,
-- whose grain state always holds the exact count.
ALTER TABLE gateway_sessions ADD COLUMN active_turn_starts integer NOT NULL DEFAULT 0;
