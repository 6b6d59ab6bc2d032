using System.CommandLine;
using Npgsql;
using OrleansGateway.Cli.Cluster;
using OrleansGateway.Storage;
using Spectre.Console;

namespace OrleansGateway.Cli.Commands;

public static class DbCommands
{
    public static Option<string?> ConnectionOption() => new("--connection", "-c")
    {
        Description = "PostgreSQL connection string (default: ConnectionStrings__Postgres, else the embedded server of `ogw up`)",
    };

    public static Command Create()
    {
        var connection = ConnectionOption();
        var migrate = new Command("migrate", "Apply the schema (Orleans tables and the gateway's own) to the database; a second run changes nothing")
        {
            connection,
        };
        migrate.SetAction(async (parse, cancellationToken) =>
        {
            var connectionString = LocalCluster.ResolveConnectionString(parse.GetValue(connection));
            var result = await MigrateAsync(connectionString, cancellationToken);
            AnsiConsole.MarkupLine(result.Applied.Count == 0
                ? $"Schema is up to date (version {result.ToVersion})."
                : $"Migrated from version {result.FromVersion} to {result.ToVersion}: {Markup.Escape(string.Join(", ", result.Applied.Select(s => $"{s.Version:000}_{s.Name}")))}");
            return 0;
        });

        return new Command("db", "The database: schema, and the cluster's state read straight from it") { migrate, DbStatusCommand.Create() };
    }

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
            throw new CliError(exception.Message);
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
    public static CliError DatabaseError(string connectionString, NpgsqlException exception) => exception is PostgresException postgres
        ? new CliError($"PostgreSQL ({Describe(connectionString)}): {postgres.MessageText} ({postgres.SqlState})")
        : new CliError($"cannot reach PostgreSQL ({Describe(connectionString)}): {exception.GetBaseException().Message}");

    public static string Describe(string connectionString)
    {
        var builder = new NpgsqlConnectionStringBuilder(connectionString);
        return $"{builder.Host}:{builder.Port}/{builder.Database}";
    }
}
