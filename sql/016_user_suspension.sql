-- compatible-from: 15
-- An expand script: release 0.1 and 0.2 builds before it keep working on it; nothing they read or write changes shape.

-- The epoch a user's own suspension (POST /api/sessions/{id}/suspend) gave the session. The user API lifts a
-- suspension only while this equals the row's epoch: any later suspension (an operator's, or one by a silo that
-- knows no users) moves the epoch, so the user cannot lift what an operator put in place.
ALTER TABLE gateway_sessions ADD COLUMN user_suspension_epoch bigint;
