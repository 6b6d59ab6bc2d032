-- compatible-from: 14
-- An expand script: release 0.1 (schema 14) keeps working on it; nothing it reads or writes changes shape.

-- The silos of every cluster on this database, as each registers itself when it starts: its build version, the
-- highest schema script it knows, and whether it drains. Release 0.1 silos have no row (read: schema 14, version
-- unknown, the oldest). Sweepers and placement prefer the newest version among Active silos that do not drain; a
-- contracting migration refuses to run while an Active silo knows too old a schema.
CREATE TABLE gateway_silos
(
    -- SiloAddress.ToParsableString(), as gateway_sessions.owner_silo: "10.0.0.5:11111@154852577".
    address        text        NOT NULL PRIMARY KEY,
    cluster_id     text        NOT NULL,
    service_id     text        NOT NULL,
    silo_name      text        NOT NULL,
    version        text        NOT NULL,
    schema_max     integer     NOT NULL,
    started_at     timestamptz NOT NULL DEFAULT now(),
    draining_since timestamptz
);

-- The cluster (Orleans ClusterId) of the silo in owner_silo, so that a row says which cluster owns it when two
-- clusters share the database (a blue/green switch). Derived from the membership table by a trigger rather than
-- written by the silos, so it stays right whoever takes the session, release 0.1 silos included.
ALTER TABLE gateway_sessions ADD COLUMN owner_cluster text;

CREATE FUNCTION gateway_sessions_owner_cluster() RETURNS trigger LANGUAGE plpgsql AS $f$
BEGIN
    NEW.owner_cluster := (SELECT m.deploymentid
                            FROM orleansmembershiptable m
                           WHERE m.address || ':' || m.port || '@' || m.generation = NEW.owner_silo
                           LIMIT 1);
    RETURN NEW;
END
$f$;

-- Only when the owner changes: the premark, checkpoints and crash detection leave owner_silo alone and pay nothing.
CREATE TRIGGER gateway_sessions_owner_cluster_insert
    BEFORE INSERT ON gateway_sessions
    FOR EACH ROW WHEN (NEW.owner_silo IS NOT NULL)
    EXECUTE FUNCTION gateway_sessions_owner_cluster();

CREATE TRIGGER gateway_sessions_owner_cluster_update
    BEFORE UPDATE OF owner_silo ON gateway_sessions
    FOR EACH ROW WHEN (NEW.owner_silo IS DISTINCT FROM OLD.owner_silo)
    EXECUTE FUNCTION gateway_sessions_owner_cluster();

UPDATE gateway_sessions SET owner_silo = owner_silo WHERE owner_silo IS NOT NULL;
