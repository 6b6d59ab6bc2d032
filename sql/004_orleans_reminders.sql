-- Orleans ADO.NET reminders (Microsoft.Orleans.Reminders.AdoNet 10.4.2).
--
-- Parameters as the provider sends them:
--   text:        @ServiceId, @GrainId (GrainId.ToString(), e.g. "mygrain/42"), @ReminderName
--   timestamptz: @StartTime (UTC)
--   integer:     @GrainHash, @BeginHash, @EndHash (uint ring positions reinterpreted as signed int),
--                @Version (the ETag)
--   @Period:     milliseconds, sent as integer when it fits, else as bigint
-- Rows are read by column name: grainid, remindername, starttime, period, version.
--
-- Each silo owns a range of the consistent-hash ring and loads the reminders whose grain hash falls
-- into it. The provider compares the ring bounds as signed integers, which is why grainhash is
-- stored signed: the ordering of stored hashes and of @BeginHash/@EndHash then agrees.

CREATE TABLE orleansreminderstable
(
    serviceid    text        NOT NULL,
    grainid      text        NOT NULL,
    remindername text        NOT NULL,
    starttime    timestamptz NOT NULL,
    -- bigint: periods longer than int.MaxValue ms (~24.8 days) arrive as bigint.
    period       bigint      NOT NULL,
    grainhash    integer     NOT NULL,
    version      integer     NOT NULL,

    CONSTRAINT orleansreminderstable_pk PRIMARY KEY (serviceid, grainid, remindername)
);

-- Ring-range loads filter by service and hash range.
CREATE INDEX orleansreminderstable_ring ON orleansreminderstable (serviceid, grainhash);

COMMENT ON TABLE orleansreminderstable IS
    'Orleans reminders (ADO.NET reminder table); version is the ETag, grainhash the signed ring position.';

INSERT INTO orleansquery (querykey, querytext) VALUES

-- Register or re-register a reminder. Always succeeds (last writer wins, as Orleans expects) and
-- returns the row's new version, which becomes the reminder's ETag.
('UpsertReminderRowKey', $q$
INSERT INTO orleansreminderstable AS r
    (serviceid, grainid, remindername, starttime, period, grainhash, version)
VALUES
    (@ServiceId, @GrainId, @ReminderName, @StartTime, @Period, @GrainHash, 0)
ON CONFLICT (serviceid, grainid, remindername) DO UPDATE
SET starttime = excluded.starttime,
    period = excluded.period,
    grainhash = excluded.grainhash,
    version = r.version + 1
RETURNING r.version
$q$),

-- All reminders of one grain.
('ReadReminderRowsKey', $q$
SELECT grainid, remindername, starttime, period, version
FROM orleansreminderstable
WHERE serviceid = @ServiceId
  AND grainid = @GrainId
$q$),

-- One reminder of one grain; no row when it does not exist.
('ReadReminderRowKey', $q$
SELECT grainid, remindername, starttime, period, version
FROM orleansreminderstable
WHERE serviceid = @ServiceId
  AND grainid = @GrainId
  AND remindername = @ReminderName
$q$),

-- Ring range (@BeginHash, @EndHash], used when @BeginHash < @EndHash (signed): a plain interval.
('ReadRangeRows1Key', $q$
SELECT grainid, remindername, starttime, period, version
FROM orleansreminderstable
WHERE serviceid = @ServiceId
  AND grainhash > @BeginHash
  AND grainhash <= @EndHash
$q$),

-- Ring range (@BeginHash, @EndHash] that wraps past the end of the ring (@BeginHash >= @EndHash,
-- signed): everything above the start or up to the end. @BeginHash = @EndHash is the whole ring.
('ReadRangeRows2Key', $q$
SELECT grainid, remindername, starttime, period, version
FROM orleansreminderstable
WHERE serviceid = @ServiceId
  AND (grainhash > @BeginHash OR grainhash <= @EndHash)
$q$),

-- Unregister: delete only if the caller's ETag is still current. Returns one boolean, TRUE when the
-- row was deleted; FALSE tells Orleans the reminder changed (or is gone) since it was read.
('DeleteReminderRowKey', $q$
WITH deleted AS (
    DELETE FROM orleansreminderstable
    WHERE serviceid = @ServiceId
      AND grainid = @GrainId
      AND remindername = @ReminderName
      AND version = @Version
    RETURNING 1
)
SELECT EXISTS (SELECT 1 FROM deleted)
$q$),

-- Drop every reminder of the service (tests and tooling). No result is read.
('DeleteReminderRowsKey', $q$
DELETE FROM orleansreminderstable
WHERE serviceid = @ServiceId
$q$);
