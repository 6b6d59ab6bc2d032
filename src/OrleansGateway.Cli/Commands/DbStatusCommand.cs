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

            var siloTable = new Table().AddColumns("Silo", "Name", "Status", "Version", "Started (UTC)", "Last alive (UTC)");
            foreach (var silo in silos)
            {
                siloTable.AddRow(silo.Address, Markup.Escape(silo.SiloName), silo.Status, Markup.Escape(silo.Version), $"{silo.StartedAt:yyyy-MM-dd HH:mm:ss}", $"{silo.IAmAliveAt:HH:mm:ss}");
            }

            AnsiConsole.Write(silos.Count == 0 ? new Text("No silos have joined this cluster.\n") : siloTable);
            var phaseTable = new Table().AddColumns("Phase", "Sessions");
            foreach (var phase in Enum.GetValues<SessionPhase>())
            {
                phaseTable.AddRow(phase.ToName(), phases.GetValueOrDefault(phase).ToString());
            }

            AnsiConsole.Write(phaseTable);
            return 0;
        });
        return command;
    }
}
