-- Orleans ADO.NET grain storage (Microsoft.Orleans.Persistence.AdoNet 10.4.2).
--
-- How the provider identifies a grain's state (all queries receive all of these):
--   @ServiceId               text     the Orleans ServiceId (several services may share the table)
--   @GrainTypeString         text     grain type name, generic arguments normalised
--   @GrainIdN0, @GrainIdN1   bigint   the key: a Guid key split in two halves, or (0, long key)
--   @GrainIdExtensionString  text     key extension, or the whole key of a string-keyed grain; may be NULL
--   @GrainIdHash, @GrainTypeHash  integer  hashes of the above, computed by the provider, used
--                                      only to narrow index look-ups (they may collide, so every query
--                                      also compares the full identity)
-- plus @GrainStateVersion (integer, NULL when the grain has no ETag) and @PayloadBinary (bytea).
--
-- Optimistic concurrency: the ETag is the integer column version. The provider treats a write as lost
-- (and throws InconsistentStateException) when the query answers NULL, answers the ETag it sent,
-- or answers no row while it sent an ETag. So every write below either moves the version forward
-- and returns the new value, or returns NULL / no row.

CREATE TABLE orleansstorage
(
    grainidhash            integer     NOT NULL,
    grainidn0              bigint      NOT NULL,
    grainidn1              bigint      NOT NULL,
    graintypehash          integer     NOT NULL,
    graintypestring        text        NOT NULL,
    grainidextensionstring text        NULL,
    serviceid              text        NOT NULL,
    -- NULL after ClearStateAsync: the row (and its version) stays so that the ETag keeps counting.
    payloadbinary          bytea       NULL,
    modifiedon             timestamptz NOT NULL DEFAULT now(),
    version                integer     NOT NULL
);

-- One row per grain state, enforced by the database so that two activations racing to create the
-- same state (both without an ETag) cannot both insert: the loser's INSERT ... ON CONFLICT DO NOTHING
-- inserts nothing and it gets NULL back. The hashes lead so that this index also serves every lookup.
-- The two strings enter as md5 digests so that long type names or string keys never hit the btree
-- entry size limit; the 'k:' prefix keeps a NULL extension distinct from an empty one.
CREATE UNIQUE INDEX orleansstorage_grain_uq ON orleansstorage
(
    grainidhash,
    graintypehash,
    grainidn0,
    grainidn1,
    serviceid,
    md5(graintypestring),
    md5(coalesce('k:' || grainidextensionstring, 'null'))
);

COMMENT ON TABLE orleansstorage IS
    'Orleans grain state (ADO.NET grain storage); version is the ETag.';

INSERT INTO orleansquery (querykey, querytext) VALUES

-- Reads at most one row: the payload (NULL when cleared or never written) and its version.
-- No row means the grain has never been written; the provider then starts with no ETag.
('ReadFromStorageKey', $q$
SELECT payloadbinary, version
FROM orleansstorage
WHERE grainidhash = @GrainIdHash
  AND graintypehash = @GrainTypeHash
  AND grainidn0 = @GrainIdN0
  AND grainidn1 = @GrainIdN1
  AND serviceid = @ServiceId
  AND graintypestring = @GrainTypeString
  AND grainidextensionstring IS NOT DISTINCT FROM @GrainIdExtensionString
$q$),

-- Writes the state. With an ETag: update only if the stored version still equals it. Without one:
-- create the row only if none exists. Exactly one row comes back, newgrainstateversion holding the
-- new version, or NULL when the write lost (stale ETag, row gone, or the row already existed).
('WriteToStorageKey', $q$
WITH updated AS (
    UPDATE orleansstorage AS s
    SET payloadbinary = @PayloadBinary,
        modifiedon = now(),
        version = s.version + 1
    WHERE @GrainStateVersion IS NOT NULL
      AND s.version = @GrainStateVersion
      AND s.grainidhash = @GrainIdHash
      AND s.graintypehash = @GrainTypeHash
      AND s.grainidn0 = @GrainIdN0
      AND s.grainidn1 = @GrainIdN1
      AND s.serviceid = @ServiceId
      AND s.graintypestring = @GrainTypeString
      AND s.grainidextensionstring IS NOT DISTINCT FROM @GrainIdExtensionString
    RETURNING s.version
), inserted AS (
    INSERT INTO orleansstorage
        (grainidhash, grainidn0, grainidn1, graintypehash, graintypestring,
         grainidextensionstring, serviceid, payloadbinary, version)
    SELECT @GrainIdHash, @GrainIdN0, @GrainIdN1, @GrainTypeHash, @GrainTypeString,
           @GrainIdExtensionString, @ServiceId, @PayloadBinary, 1
    WHERE @GrainStateVersion IS NULL
    ON CONFLICT DO NOTHING
    RETURNING version
)
SELECT (SELECT version FROM updated
        UNION ALL
        SELECT version FROM inserted) AS newgrainstateversion
$q$),

-- ClearStateAsync (default): keep the row, drop the payload, move the version on, and return the
-- new version as the first column. No row back means the ETag was stale.
('ClearStorageKey', $q$
UPDATE orleansstorage AS s
SET payloadbinary = NULL,
    modifiedon = now(),
    version = s.version + 1
WHERE s.version = @GrainStateVersion
  AND s.grainidhash = @GrainIdHash
  AND s.graintypehash = @GrainTypeHash
  AND s.grainidn0 = @GrainIdN0
  AND s.grainidn1 = @GrainIdN1
  AND s.serviceid = @ServiceId
  AND s.graintypestring = @GrainTypeString
  AND s.grainidextensionstring IS NOT DISTINCT FROM @GrainIdExtensionString
RETURNING s.version AS newgrainstateversion
$q$),

-- ClearStateAsync with AdoNetGrainStorageOptions.DeleteStateOnClear = true: remove the row if the ETag
-- still matches. The provider only needs a non-NULL value that differs from the ETag it sent (it then
-- forgets the ETag), so the version the row would have had next is returned. No row: stale ETag.
('DeleteStorageKey', $q$
DELETE FROM orleansstorage AS s
WHERE s.version = @GrainStateVersion
  AND s.grainidhash = @GrainIdHash
  AND s.graintypehash = @GrainTypeHash
  AND s.grainidn0 = @GrainIdN0
  AND s.grainidn1 = @GrainIdN1
  AND s.serviceid = @ServiceId
  AND s.graintypestring = @GrainTypeString
  AND s.grainidextensionstring IS NOT DISTINCT FROM @GrainIdExtensionString
RETURNING s.version + 1 AS newgrainstateversion
$q$);
