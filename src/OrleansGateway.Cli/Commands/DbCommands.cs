using System.CommandLine;
using Npgsql;
using OrleansGateway.LocalCluster;
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
            var connectionString = LocalClusterEnvironment.ResolveConnectionString(parse.GetValue(connection));
            var result = await ClusterDatabase.MigrateAsync(connectionString, cancellationToken);
            AnsiConsole.MarkupLine(result.Applied.Count == 0
                ? $"Schema is up to date (version {result.ToVersion})."
                : $"Migrated from version {result.FromVersion} to {result.ToVersion}: {Markup.Escape(string.Join(", ", result.Applied.Select(s => $"{s.Version:000}_{s.Name}")))}");
            return 0;
        });

        return new Command("db", "The database: schema, and the cluster's state read straight from it") { migrate, DbStatusCommand.Create() };
    }
}
