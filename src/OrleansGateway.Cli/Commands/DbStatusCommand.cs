using System.CommandLine;
using Npgsql;
using OrleansGateway.LocalCluster;
using OrleansGateway.Sessions;
using OrleansGateway.Storage;
using Spectre.Console;

namespace OrleansGateway.Cli.Commands;

/// <summary>
/// <c>ogw db status</c>: silos (Orleans membership table) and sessions by phase, read straight from the database; works
/// without a dashboard, unlike <c>ogw status</c>.
/// </summary>
public static class DbStatusCommand
{
    public static Command Create()
    {
        var connection = DbCommands.ConnectionOption();
        var clusterId = new Option<string>("--cluster-id")
        {
            Description = "Orleans cluster id (default: Orleans__ClusterId, else ogw)",
            DefaultValueFactory = _ => LocalClusterEnvironment.ClusterId,
        };
        var command = new Command("status", "Silos (membership table) and sessions by phase, read from the database; needs no dashboard") { connection, clusterId };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var connectionString = LocalClusterEnvironment.ResolveConnectionString(parse.GetValue(connection));
            await using var dataSource = GatewayDataSource.Create(connectionString, "ogw-status");
            IReadOnlyList<SiloRow> silos;
            IReadOnlyDictionary<SessionPhase, long> phases;
            try
            {
                silos = await new MembershipTable(dataSource).ReadSilosAsync(parse.GetValue(clusterId)!, cancellationToken);
                phases = await new SessionQueries(dataSource).CountByPhaseAsync(cancellationToken);
            }
            catch (PostgresException exception) when (exception.SqlState == PostgresErrorCodes.UndefinedTable)
            {
                throw new CliError($"the database has no gateway schema: run `ogw db migrate` ({exception.MessageText})");
            }
            catch (NpgsqlException exception)
            {
                throw ClusterDatabase.DatabaseError(connectionString, exception);
            }

            // An address stays whole (IPv6 in brackets, too: every cell is text, never markup).
            var siloTable = new Table().AddColumns(new TableColumn("Silo").NoWrap(), new TableColumn("Name"), new TableColumn("Status"),
                new TableColumn("Version"), new TableColumn("Started (UTC)"), new TableColumn("Last alive (UTC)"));
            foreach (var silo in silos)
            {
                siloTable.AddRow(new Text(silo.Address), new Text(silo.SiloName), new Text(silo.Status), new Text(silo.Version),
                    new Text($"{silo.StartedAt:yyyy-MM-dd HH:mm:ss}"), new Text($"{silo.IAmAliveAt:HH:mm:ss}"));
            }

            if (silos.Count == 0)
            {
                AnsiConsole.WriteLine("No silos have joined this cluster.");
            }
            else
            {
                TableOutput.Write(siloTable);
            }

            var phaseTable = new Table().AddColumns("Phase", "Sessions");
            foreach (var phase in Enum.GetValues<SessionPhase>())
            {
                phaseTable.AddRow(phase.ToName(), phases.GetValueOrDefault(phase).ToString());
            }

            TableOutput.Write(phaseTable);
            return 0;
        });
        return command;
    }
}
