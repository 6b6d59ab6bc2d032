-- Orleans ADO.NET clustering (Microsoft.Orleans.Clustering.AdoNet 10.4.2): the membership table.
--
-- Orleans' membership protocol needs an atomic "compare table version, then change one row and bump
-- the version" operation. A per-cluster row in orleansmembershipversiontable carries that version;
-- the provider hands back the version it last read (@Version, an integer ETag) with every insert or
-- update, and the write must succeed only while the stored version still equals it. Concurrent
-- writers queue on the version row's lock; PostgreSQL re-checks "version = @Version" after the wait,
-- so only the first writer of a given version wins and the others report FALSE and re-read.
--
-- @DeploymentId is the Orleans ClusterId. Parameters as the provider sends them:
--   text: @DeploymentId, @Address (IP literal), @SiloName, @HostName, @SuspectTimes (may be NULL)
--   integer: @Port, @Generation, @Status (SiloStatus enum), @ProxyPort, @Version
--   timestamptz (UTC): @StartTime, @IAmAliveTime

-- One row per cluster: the membership table's version (ETag).
CREATE TABLE orleansmembershipversiontable
(
    deploymentid text        NOT NULL,
    version      integer     NOT NULL DEFAULT 0,
    -- For operators only: when the membership last changed. Orleans never reads it.
    updatedon    timestamptz NOT NULL DEFAULT now(),

    CONSTRAINT orleansmembershipversiontable_pk PRIMARY KEY (deploymentid)
);

-- One row per silo incarnation. (address, port, generation) is Orleans' SiloAddress: a restarted silo
-- on the same endpoint gets a new generation and therefore a new row.
CREATE TABLE orleansmembershiptable
(
    deploymentid text        NOT NULL,
    address      text        NOT NULL,  -- IPAddress.ToString(): IPv4 or IPv6 literal
    port         integer     NOT NULL,
    generation   integer     NOT NULL,
    -- NOT NULL because the provider reads siloname/hostname/proxyport without a NULL check.
    siloname     text        NOT NULL,
    hostname     text        NOT NULL,
    -- Orleans.Runtime.SiloStatus: 1 Created, 2 Joining, 3 Active, 4 ShuttingDown, 5 Stopping, 6 Dead.
    status       integer     NOT NULL,
    -- Gateway (client) port; 0 when the silo accepts no clients.
    proxyport    integer     NOT NULL DEFAULT 0,
    -- Suspicion votes as Orleans serialises them: "silo,time|silo,time|...". Opaque to SQL.
    suspecttimes text        NULL,
    starttime    timestamptz NOT NULL,
    iamalivetime timestamptz NOT NULL,

    CONSTRAINT orleansmembershiptable_pk PRIMARY KEY (deploymentid, address, port, generation),
    -- Deleting a cluster's version row (DeleteMembershipTableEntriesKey) takes its silo rows along.
    CONSTRAINT orleansmembershiptable_version_fk FOREIGN KEY (deploymentid)
        REFERENCES orleansmembershipversiontable (deploymentid) ON DELETE CASCADE
);

COMMENT ON TABLE orleansmembershiptable IS
    'Orleans cluster membership, one row per silo incarnation; deploymentid is the Orleans ClusterId.';

INSERT INTO orleansquery (querykey, querytext) VALUES

-- Silo start-up: make sure the cluster has a version row. Returns one boolean (TRUE when this call
-- created it); a second silo finding it already there is normal and gets FALSE.
('InsertMembershipVersionKey', $q$
WITH created AS (
    INSERT INTO orleansmembershipversiontable (deploymentid)
    VALUES (@DeploymentId)
    ON CONFLICT (deploymentid) DO NOTHING
    RETURNING 1
)
SELECT EXISTS (SELECT 1 FROM created)
$q$),

-- A silo announces itself. Returns one boolean: TRUE only if the version still was @Version (it is
-- then bumped) and the silo was not yet in the table. The version is only bumped when the row is
-- really new, so a FALSE answer leaves the table exactly as it was.
('InsertMembershipKey', $q$
WITH bumped AS (
    UPDATE orleansmembershipversiontable AS v
    SET version = v.version + 1,
        updatedon = now()
    WHERE v.deploymentid = @DeploymentId
      AND v.version = @Version
      AND NOT EXISTS (
          SELECT 1 FROM orleansmembershiptable AS m
          WHERE m.deploymentid = @DeploymentId
            AND m.address = @Address AND m.port = @Port AND m.generation = @Generation)
    RETURNING v.deploymentid
), inserted AS (
    INSERT INTO orleansmembershiptable
        (deploymentid, address, port, generation, siloname, hostname,
         status, proxyport, starttime, iamalivetime)
    SELECT b.deploymentid, @Address, @Port, @Generation, @SiloName, @HostName,
           @Status, @ProxyPort, @StartTime, @IAmAliveTime
    FROM bumped AS b
    ON CONFLICT DO NOTHING
    RETURNING 1
)
SELECT EXISTS (SELECT 1 FROM inserted)
$q$),

-- Status changes and suspicion votes. Same optimistic rule as the insert: TRUE only if the version
-- still was @Version and the silo row exists; otherwise nothing changes and FALSE makes Orleans re-read.
('UpdateMembershipKey', $q$
WITH bumped AS (
    UPDATE orleansmembershipversiontable AS v
    SET version = v.version + 1,
        updatedon = now()
    WHERE v.deploymentid = @DeploymentId
      AND v.version = @Version
      AND EXISTS (
          SELECT 1 FROM orleansmembershiptable AS m
          WHERE m.deploymentid = @DeploymentId
            AND m.address = @Address AND m.port = @Port AND m.generation = @Generation)
    RETURNING v.deploymentid
), changed AS (
    UPDATE orleansmembershiptable AS m
    SET status = @Status,
        suspecttimes = @SuspectTimes,
        iamalivetime = @IAmAliveTime
    FROM bumped AS b
    WHERE m.deploymentid = b.deploymentid
      AND m.address = @Address AND m.port = @Port AND m.generation = @Generation
    RETURNING 1
)
SELECT EXISTS (SELECT 1 FROM changed)
$q$),

-- Heartbeat. Deliberately outside the version protocol (Orleans does not version I-am-alive
-- updates), so it never conflicts with membership changes. No result is read.
('UpdateIAmAlivetimeKey', $q$
UPDATE orleansmembershiptable
SET iamalivetime = @IAmAliveTime
WHERE deploymentid = @DeploymentId
  AND address = @Address AND port = @Port AND generation = @Generation
$q$),

-- One silo's row. The version row is the driving table so that exactly one row comes back even when
-- the silo is unknown (its columns are then NULL, which the provider reads as "no entry"): the
-- provider takes the table version from the first row and fails on an empty result.
('MembershipReadRowKey', $q$
SELECT v.deploymentid, m.address, m.port, m.generation, m.siloname, m.hostname,
       m.status, m.proxyport, m.suspecttimes, m.starttime, m.iamalivetime,
       v.version
FROM orleansmembershipversiontable AS v
LEFT JOIN orleansmembershiptable AS m
       ON m.deploymentid = v.deploymentid
      AND m.address = @Address AND m.port = @Port AND m.generation = @Generation
WHERE v.deploymentid = @DeploymentId
$q$),

-- The whole cluster, with the same "at least the version row" rule as above.
('MembershipReadAllKey', $q$
SELECT v.deploymentid, m.address, m.port, m.generation, m.siloname, m.hostname,
       m.status, m.proxyport, m.suspecttimes, m.starttime, m.iamalivetime,
       v.version
FROM orleansmembershipversiontable AS v
LEFT JOIN orleansmembershiptable AS m
       ON m.deploymentid = v.deploymentid
WHERE v.deploymentid = @DeploymentId
$q$),

-- Removes a whole cluster (tests and tooling). The silo rows go with it through the cascading
-- foreign key, so this stays a single statement.
('DeleteMembershipTableEntriesKey', $q$
DELETE FROM orleansmembershipversiontable
WHERE deploymentid = @DeploymentId
$q$),

-- Gateways for clients: silos with @Status (the provider always passes Active = 3) that accept
-- clients. The provider builds each gateway URI from address, proxyport and generation.
('GatewaysQueryKey', $q$
SELECT address, proxyport, generation
FROM orleansmembershiptable
WHERE deploymentid = @DeploymentId
  AND status = @Status
  AND proxyport > 0
$q$),

-- Defunct-silo cleanup, the required bulk form: dead silos (status 6) not heard of since
-- @IAmAliveTime. Orleans 10.4.2 only runs it when CleanupDefunctSiloEntryKey below is absent.
-- Cleanup does not touch the table version: dead rows carry no information other silos act on.
('CleanupDefunctSiloEntriesKey', $q$
DELETE FROM orleansmembershiptable
WHERE deploymentid = @DeploymentId
  AND status = 6
  AND iamalivetime < @IAmAliveTime
$q$),

-- Defunct-silo cleanup, the optional per-row form that 10.4.2 prefers when it exists. The provider
-- reads the table, picks dead silos whose start, heartbeat and votes are all older than the cutoff,
-- and sends each row back with the values it saw. The row is deleted only if it is still exactly
-- that dead row, so a row that changed in between (a late vote or heartbeat) survives.
-- Votes are compared with NULL and '' as equal: both mean "no votes" to Orleans.
('CleanupDefunctSiloEntryKey', $q$
DELETE FROM orleansmembershiptable
WHERE deploymentid = @DeploymentId
  AND address = @Address AND port = @Port AND generation = @Generation
  AND status = 6
  AND starttime = @StartTime
  AND iamalivetime = @IAmAliveTime
  AND coalesce(suspecttimes, '') = coalesce(@SuspectTimes, '')
$q$);
