using System.Text.RegularExpressions;
using Npgsql;

namespace OrleansGateway.Storage;

/// <summary>One schema script from <c>sql/</c>, numbered by its file name prefix (<c>010_session_ledger.sql</c>).</summary>
/// <param name="CompatibleFrom">
/// The oldest schema a build may know and still work after this script: an expand script names the version before
/// it (<c>-- compatible-from: 14</c> as its first line), a contracting one its own version (the default).
/// </param>
public sealed record SchemaScript(int Version, string Name, string Sql, int CompatibleFrom)
{
    /// <summary>Builds that know only the schema before it break on it.</summary>
    public bool Contracts => CompatibleFrom == Version;
}

/// <summary>What a migration run did.</summary>
public sealed record MigrationResult(int FromVersion, int ToVersion, IReadOnlyList<SchemaScript> Applied);

/// <summary>The database is not at the version this build expects.</summary>
public sealed class SchemaVersionException(string message) : Exception(message);

/// <summary>
/// Applies the scripts of <c>sql/</c> (embedded in this assembly) in order, each once, each in its own
/// transaction with its version row, so a failed script leaves the database at the previous version.
/// </summary>
/// <remarks>
/// Expand/contract: a build works with its own schema and with any later one whose newer scripts all say they are
/// compatible from a version the build knows, so migrating before a rolling upgrade leaves the old silos working and
/// a rollback after it possible. A contracting script is refused while an Active silo knows a schema older than it.
/// </remarks>
public sealed partial class SchemaMigrator(NpgsqlDataSource dataSource, IReadOnlyList<SchemaScript>? scripts = null)
{
    /// <summary>What a silo of release 0.1, which registers nowhere, knows: schema 14.</summary>
    public const int UnregisteredSiloSchema = 14;

    // A silo whose membership row has not been refreshed for this long is not counted as Active by the contract check
    // (Orleans refreshes it every 5 minutes by default; a cluster killed whole leaves its rows Active forever).
    private static readonly TimeSpan SiloAliveWindow = TimeSpan.FromMinutes(10);

    // Any constant: it only has to be the same for every migrator of this schema, so that concurrent
    // `ogw db migrate` runs (compose's init job racing a developer's shell) apply each script once.
    private const long MigrationLockKey = 0x4F47_5753_4348_454D;

    public static IReadOnlyList<SchemaScript> Scripts { get; } = LoadScripts();

    public static int LatestVersion => Scripts[^1].Version;

    private IReadOnlyList<SchemaScript> Known => scripts ?? Scripts;

    private int KnownLatest => Known[^1].Version;

    /// <summary>Applies every script this build has, or those up to <paramref name="targetVersion"/>.</summary>
    public async Task<MigrationResult> MigrateAsync(CancellationToken cancellationToken = default) =>
        await MigrateAsync(targetVersion: null, cancellationToken);

    public async Task<MigrationResult> MigrateAsync(int? targetVersion, CancellationToken cancellationToken = default)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using (var transaction = await connection.BeginTransactionAsync(cancellationToken))
        {
            await Execute(connection, """
                SELECT pg_advisory_xact_lock(@key);
                CREATE TABLE IF NOT EXISTS gateway_schema_version
                (
                    version    integer     NOT NULL PRIMARY KEY,
                    name       text        NOT NULL,
                    applied_at timestamptz NOT NULL DEFAULT now()
                );
                ALTER TABLE gateway_schema_version ADD COLUMN IF NOT EXISTS compatible_from integer;
                """, cancellationToken, ("key", MigrationLockKey));
            await transaction.CommitAsync(cancellationToken);
        }

        var from = -1;
        var applied = new List<SchemaScript>();
        foreach (var script in Known.Where(script => script.Version <= (targetVersion ?? int.MaxValue)))
        {
            await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
            await Execute(connection, "SELECT pg_advisory_xact_lock(@key)", cancellationToken, ("key", MigrationLockKey));
            var current = await ReadVersionAsync(connection, cancellationToken);
            if (from < 0)
            {
                from = current;
                await EnsureNotNewerAsync(connection, current, cancellationToken);
            }

            if (script.Version <= current)
            {
                continue;
            }

            await RefuseContractWhileOlderSilosServeAsync(connection, script, cancellationToken);
            await Execute(connection, script.Sql, cancellationToken);
            await Execute(connection, "INSERT INTO gateway_schema_version (version, name, compatible_from) VALUES (@version, @name, @compatible_from)",
                cancellationToken, ("version", script.Version), ("name", script.Name), ("compatible_from", script.CompatibleFrom));
            await transaction.CommitAsync(cancellationToken);
            applied.Add(script);
        }

        return new MigrationResult(from, applied.Count > 0 ? applied[^1].Version : from, applied);
    }

    /// <summary>Version of the database, 0 when it was never migrated.</summary>
    public async Task<int> GetVersionAsync(CancellationToken cancellationToken = default)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        return await ReadVersionAsync(connection, cancellationToken);
    }

    /// <summary>The schemas this build works with, for people: its own, and later ones that only expanded it.</summary>
    public string SupportedRange => $"schema {KnownLatest}, or a later one whose newer scripts are all compatible from {KnownLatest}";

    /// <summary>
    /// Throws a <see cref="SchemaVersionException"/> that says what to do unless this build works with the database:
    /// at its own version, or at a later one that only expanded it (a newer release migrated it, and this build is
    /// what a rolling upgrade or a rollback still runs).
    /// </summary>
    public async Task EnsureCompatibleAsync(CancellationToken cancellationToken = default)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        var current = await ReadVersionAsync(connection, cancellationToken);
        if (current < KnownLatest)
        {
            throw new SchemaVersionException(current == 0
                ? $"the database has no gateway schema; run `ogw db migrate` (this build needs version {KnownLatest})"
                : $"the database schema is at version {current}, this build needs {KnownLatest}; run `ogw db migrate`");
        }

        await EnsureNotNewerAsync(connection, current, cancellationToken);
    }

    // A database a newer build migrated is fine while every script beyond this build's is compatible with it.
    private async Task EnsureNotNewerAsync(NpgsqlConnection connection, int current, CancellationToken cancellationToken)
    {
        if (current <= KnownLatest)
        {
            return;
        }

        await using var command = new NpgsqlCommand("""
            SELECT version, name FROM gateway_schema_version
             WHERE version > @known AND coalesce(compatible_from, version) > @known
             ORDER BY version LIMIT 1
            """, connection);
        command.Parameters.AddWithValue("known", KnownLatest);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        if (await reader.ReadAsync(cancellationToken))
        {
            throw new SchemaVersionException(
                $"the database schema is at version {current}, and script {reader.GetInt32(0)} ({reader.GetString(1)}) contracted it " +
                $"beyond this build's {KnownLatest}; use a newer build");
        }
    }

    /// <summary>
    /// A contracting script would break silos that know an older schema: refused while one is Active, in any cluster on
    /// this database. Release 0.1 silos register nowhere and count as schema <see cref="UnregisteredSiloSchema"/>.
    /// </summary>
    private static async Task RefuseContractWhileOlderSilosServeAsync(NpgsqlConnection connection, SchemaScript script, CancellationToken cancellationToken)
    {
        // Before script 15 no silo registered its schema, and no script before it contracts anything.
        await using var command = new NpgsqlCommand("SELECT to_regclass('gateway_silos') IS NOT NULL", connection);
        if (!script.Contracts || !(bool)(await command.ExecuteScalarAsync(cancellationToken))!)
        {
            return;
        }

        command.CommandText = $"""
            SELECT {MembershipTable.MemberAddress}, m.siloname, m.deploymentid, coalesce(s.schema_max, @unregistered)
              FROM orleansmembershiptable m
              LEFT JOIN gateway_silos s ON s.address = {MembershipTable.MemberAddress}
             WHERE m.status = 3 AND m.iamalivetime > now() - @alive_window
               AND coalesce(s.schema_max, @unregistered) < @compatible_from
             ORDER BY 1
            """;
        command.Parameters.AddWithValue("compatible_from", script.CompatibleFrom);
        command.Parameters.AddWithValue("unregistered", UnregisteredSiloSchema);
        command.Parameters.AddWithValue("alive_window", SiloAliveWindow);
        var older = new List<string>();
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                older.Add($"{reader.GetString(0)} ({reader.GetString(1)}, cluster {reader.GetString(2)}, schema {reader.GetInt32(3)})");
            }
        }

        if (older.Count > 0)
        {
            throw new SchemaVersionException(
                $"script {script.Version} ({script.Name}) contracts the schema for builds of schema {script.CompatibleFrom} or later, " +
                $"and {older.Count} Active silo(s) know an older one: {string.Join(", ", older)}; finish the upgrade of those silos first");
        }
    }

    private static async Task<int> ReadVersionAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(
            "SELECT to_regclass('gateway_schema_version') IS NOT NULL", connection);
        if (!(bool)(await command.ExecuteScalarAsync(cancellationToken))!)
        {
            return 0;
        }

        command.CommandText = "SELECT coalesce(max(version), 0) FROM gateway_schema_version";
        return (int)(await command.ExecuteScalarAsync(cancellationToken))!;
    }

    private static async Task Execute(NpgsqlConnection connection, string sql, CancellationToken cancellationToken,
        params (string Name, object Value)[] parameters)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        foreach (var (name, value) in parameters)
        {
            command.Parameters.AddWithValue(name, value);
        }

        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    private static IReadOnlyList<SchemaScript> LoadScripts()
    {
        var assembly = typeof(SchemaMigrator).Assembly;
        var scripts = new List<SchemaScript>();
        foreach (var resource in assembly.GetManifestResourceNames())
        {
            var match = ScriptName().Match(resource);
            if (!match.Success)
            {
                continue;
            }

            using var reader = new StreamReader(assembly.GetManifestResourceStream(resource)!);
            scripts.Add(Parse(int.Parse(match.Groups["version"].Value), match.Groups["name"].Value, reader.ReadToEnd()));
        }

        scripts.Sort((a, b) => a.Version.CompareTo(b.Version));
        for (var i = 1; i < scripts.Count; i++)
        {
            if (scripts[i].Version == scripts[i - 1].Version)
            {
                throw new InvalidOperationException($"two schema scripts share version {scripts[i].Version}");
            }
        }

        return scripts.Count > 0 ? scripts : throw new InvalidOperationException("no schema scripts are embedded");
    }

    /// <summary>A script with its <c>-- compatible-from: N</c> first line read; without one it contracts.</summary>
    public static SchemaScript Parse(int version, string name, string sql)
    {
        var header = CompatibleFromHeader().Match(sql);
        var compatibleFrom = header.Success ? int.Parse(header.Groups["version"].Value) : version;
        return compatibleFrom <= version
            ? new SchemaScript(version, name, sql, compatibleFrom)
            : throw new InvalidOperationException($"schema script {version} says it is compatible from a later version, {compatibleFrom}");
    }

    [GeneratedRegex(@"\A--\s*compatible-from:\s*(?<version>\d+)\s*$", RegexOptions.Multiline)]
    private static partial Regex CompatibleFromHeader();

    [GeneratedRegex(@"^sql/(?<version>\d+)_(?<name>[a-z0-9_]+)\.sql$")]
    private static partial Regex ScriptName();
}
