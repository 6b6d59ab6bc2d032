-- Orleans ADO.NET providers (Microsoft.Orleans.*.AdoNet 10.4.2): the query registry.
--
-- The clustering, persistence and reminders providers never issue SQL of their own beyond
--     SELECT QueryKey, QueryText FROM OrleansQuery [WHERE QueryKey = ...]
-- They load the texts stored here at start-up and run them with named parameters (@DeploymentId,
-- @GrainIdHash, ...), reading result columns by name. So the contract with Orleans is: the key names,
-- the parameter names and .NET types each query receives, and the result columns, row counts and
-- "no row / NULL means conflict" conventions it returns. Table and function names are ours.
--
-- The provider's SELECT is unquoted, so PostgreSQL folds it to lower case: this table must be named
-- orleansquery (and its columns querykey/querytext), unquoted, in a schema on the search_path of the
-- role the silos connect as.
--
-- 002_orleans_clustering.sql, 003_orleans_persistence.sql and 004_orleans_reminders.sql each add their
-- own tables and their own rows here. The clustering and reminders providers refuse to start unless
-- every key they know is present; extra keys (from the other providers) are ignored.
--
-- Writing notes shared by all query texts:
--   * Texts are dollar-quoted ($q$ ... $q$) so they can contain quotes without doubling them.
--   * Every query is a single statement that yields at most one result set: the providers'
--     readers collect rows from every result set, so a stray SELECT would be read as data.
--   * Npgsql sends each parameter with an explicit type taken from the .NET value (string -> text,
--     int -> integer, long -> bigint, DateTime -> timestamptz, byte[] -> bytea). Columns use the same
--     types so that comparisons never need casts and indexes stay usable.
--   * Timestamps are timestamptz: Orleans always hands over UTC DateTime values, which Npgsql only
--     accepts for timestamptz, and reading timestamptz back gives UTC whatever the session TimeZone.

CREATE TABLE orleansquery
(
    -- The provider looks queries up by these exact (case-sensitive) key names.
    querykey  varchar(64) NOT NULL,
    querytext text        NOT NULL,

    CONSTRAINT orleansquery_pk PRIMARY KEY (querykey)
);

COMMENT ON TABLE orleansquery IS
    'Orleans ADO.NET providers: query key -> query text. Loaded by the silos at start-up; edit only together with a provider upgrade.';
