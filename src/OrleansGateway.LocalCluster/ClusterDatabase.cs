using Npgsql;
using OrleansGateway.Storage;

namespace OrleansGateway.LocalCluster;

/// <summary>The database of a cluster as its tools see it: migrated to a schema, and its errors said in one line.</summary>
public static class ClusterDatabase
{
    public static Task<MigrationResult> MigrateAsync(string connectionString, CancellationToken cancellationToken) =>
        MigrateAsync(connectionString, targetVersion: null, cancellationToken);

    /// <summary>Migrates up to <paramref name="targetVersion"/> (an old release's schema), or to this build's latest.</summary>
    public static async Task<MigrationResult> MigrateAsync(string connectionString, int? targetVersion, CancellationToken cancellationToken)
    {
        await using var dataSource = GatewayDataSource.Create(connectionString, "ogw-migrate");
        try
        {
            return await new SchemaMigrator(dataSource).MigrateAsync(targetVersion, cancellationToken);
        }
        catch (SchemaVersionException exception)
        {
            throw new LocalClusterException(exception.Message);
        }
        catch (NpgsqlException exception)
        {
            throw DatabaseError(connectionString, exception);
        }
    }

    /// <summary>
    /// A PostgreSQL error as one line: an unreachable server, or what the server said (a wrong password, a missing
    /// database, a table of the schema that exists already with another shape).
    /// </summary>
    public static LocalClusterException DatabaseError(string connectionString, NpgsqlException exception) => exception is PostgresException postgres
        ? new LocalClusterException($"PostgreSQL ({Describe(connectionString)}): {postgres.MessageText} ({postgres.SqlState})")
        : new LocalClusterException($"cannot reach PostgreSQL ({Describe(connectionString)}): {exception.GetBaseException().Message}", unreachable: true);

    public static string Describe(string connectionString)
    {
        var builder = new NpgsqlConnectionStringBuilder(connectionString);
        return $"{builder.Host}:{builder.Port}/{builder.Database}";
    }
}
