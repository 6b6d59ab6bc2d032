using System.Text.RegularExpressions;
using Npgsql;

namespace OrleansGateway.Storage;

/// <summary>One schema script from <c>sql/</c>, numbered by its file name prefix (<c>010_session_ledger.sql</c>).</summary>
public sealed record SchemaScript(int Version, string Name, string Sql);

/// <summary>What a migration run did.</summary>
public sealed record MigrationResult(int FromVersion, int ToVersion, IReadOnlyList<SchemaScript> Applied);

/// <summary>The database is not at the version this build expects.</summary>
public sealed class SchemaVersionException(string message) : Exception(message);

/// <summary>
/// Applies the scripts of <c>sql/</c> (embedded in this assembly) in order, each once, each in its own
/// transaction with its version row, so a failed script leaves the database at the previous version.
/// </summary>
public sealed partial class SchemaMigrator(NpgsqlDataSource dataSource)
{
    // Any constant: it only has to be the same for every migrator of this schema, so that concurrent
    // `ogw db migrate` runs (compose's init job racing a developer's shell) apply each script once.
    private const long MigrationLockKey = 0x4F47_5753_4348_454D;

    public static IReadOnlyList<SchemaScript> Scripts { get; } = LoadScripts();

    public static int LatestVersion => Scripts[^1].Version;

    public Task<MigrationResult> MigrateAsync(CancellationToken cancellationToken = default) => MigrateAsync(targetVersion: null, cancellationToken);

    /// <summary>
    /// Applies the scripts newer than the database, up to <paramref name="targetVersion"/> when given (a release's
    /// schema, for a database that an older release's silos must accept), else all of them.
    /// </summary>
    public async Task<MigrationResult> MigrateAsync(int? targetVersion, CancellationToken cancellationToken = default)
    {
        if (targetVersion is { } target && !Scripts.Any(script => script.Version == target))
        {
            throw new ArgumentOutOfRangeException(nameof(targetVersion), target, "no schema script has this version");
        }

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
                """, cancellationToken, ("key", MigrationLockKey));
            await transaction.CommitAsync(cancellationToken);
        }

        var from = -1;
        var applied = new List<SchemaScript>();
        foreach (var script in Scripts)
        {
            await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
            await Execute(connection, "SELECT pg_advisory_xact_lock(@key)", cancellationToken, ("key", MigrationLockKey));
            var current = await ReadVersionAsync(connection, cancellationToken);
            if (from < 0)
            {
                from = current;
                EnsureNotNewer(current);
            }

            if (script.Version <= current || script.Version > (targetVersion ?? LatestVersion))
            {
                continue;
            }

            await Execute(connection, script.Sql, cancellationToken);
            await Execute(connection, "INSERT INTO gateway_schema_version (version, name) VALUES (@version, @name)",
                cancellationToken, ("version", script.Version), ("name", script.Name));
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

    /// <summary>Throws a <see cref="SchemaVersionException"/> that says what to do unless the database is at this build's version.</summary>
    public async Task EnsureCurrentAsync(CancellationToken cancellationToken = default)
    {
        var current = await GetVersionAsync(cancellationToken);
        EnsureNotNewer(current);
        if (current < LatestVersion)
        {
            throw new SchemaVersionException(current == 0
                ? $"the database has no gateway schema; run `ogw db migrate` (this build needs version {LatestVersion})"
                : $"the database schema is at version {current}, this build needs {LatestVersion}; run `ogw db migrate`");
        }
    }

    private static void EnsureNotNewer(int current)
    {
        if (current > LatestVersion)
        {
            throw new SchemaVersionException(
                $"the database schema is at version {current}, newer than this build's {LatestVersion}; use a newer ogw");
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
            scripts.Add(new SchemaScript(int.Parse(match.Groups["version"].Value), match.Groups["name"].Value, reader.ReadToEnd()));
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

    [GeneratedRegex(@"^sql/(?<version>\d+)_(?<name>[a-z0-9_]+)\.sql$")]
    private static partial Regex ScriptName();
}
