using System.CommandLine;
using System.Diagnostics;
using OrleansGateway.Cli.Cluster;
using OrleansGateway.Storage;
using Spectre.Console;

namespace OrleansGateway.Cli.Commands;

/// <summary>
/// <c>ogw up</c>: a whole cluster on this machine. PostgreSQL (embedded unless ConnectionStrings__Postgres names
/// one), the schema, and the silos, each in its own process; Ctrl+C stops everything gracefully.
/// </summary>
public static class UpCommand
{
    private sealed record Ports(int Http, int Silo, int Gateway);

    public static Command Create()
    {
        var silos = new Option<int>("--silos") { Description = "Number of silo processes", DefaultValueFactory = _ => 3 };
        var httpPort = new Option<int>("--http-port") { Description = "HTTP port of the first silo; the next silos count up", DefaultValueFactory = _ => 8081 };
        var siloPort = new Option<int>("--silo-port") { Description = "Orleans silo port of the first silo", DefaultValueFactory = _ => 11111 };
        var gatewayPort = new Option<int>("--gateway-port") { Description = "Orleans gateway port of the first silo", DefaultValueFactory = _ => 30000 };
        var command = new Command("up", "Start PostgreSQL (embedded unless ConnectionStrings__Postgres is set), migrate, and run a local cluster until Ctrl+C")
        {
            silos, httpPort, siloPort, gatewayPort,
        };
        command.SetAction((parse, cancellationToken) => RunAsync(
            parse.GetValue(silos),
            new Ports(parse.GetValue(httpPort), parse.GetValue(siloPort), parse.GetValue(gatewayPort)),
            cancellationToken));
        return command;
    }

    private static async Task<int> RunAsync(int siloCount, Ports first, CancellationToken stop)
    {
        if (siloCount is < 1 or > 20)
        {
            throw new CliError("--silos must be between 1 and 20");
        }

        foreach (var (name, port) in new[] { ("--http-port", first.Http), ("--silo-port", first.Silo), ("--gateway-port", first.Gateway) })
        {
            if (port < 1 || port + siloCount - 1 > 65535)
            {
                throw new CliError($"{name} {port} leaves no room for {siloCount} silos below port 65536");
            }
        }

        var clock = Stopwatch.StartNew();
        await using var embedded = LocalCluster.ConfiguredConnectionString is null ? await StartEmbeddedPostgresAsync(stop) : null;
        var connectionString = LocalCluster.ResolveConnectionString(null);
        AnsiConsole.MarkupLine($"PostgreSQL: [bold]{Markup.Escape(DbCommands.Describe(connectionString))}[/]{(embedded is null ? "" : $" (embedded, data in {Markup.Escape(embedded.DataDirectory)})")}");

        var migration = await DbCommands.MigrateAsync(connectionString, stop);
        AnsiConsole.MarkupLine($"Schema: version {migration.ToVersion}{(migration.Applied.Count > 0 ? $" ({migration.Applied.Count} scripts applied)" : "")}");

        var processes = new List<SiloProcess>();
        try
        {
            for (var i = 0; i < siloCount; i++)
            {
                processes.Add(SiloProcess.Start(new SiloProcessSettings(
                    Name: $"silo{i + 1}",
                    ConnectionString: connectionString,
                    ClusterId: LocalCluster.ClusterId,
                    HttpPort: first.Http + i,
                    SiloPort: first.Silo + i,
                    GatewayPort: first.Gateway + i,
                    LogFile: Path.Combine(LocalCluster.LogDirectory, $"silo{i + 1}.log"))));
            }

            AnsiConsole.MarkupLine($"Starting {siloCount} silos (logs in {Markup.Escape(LocalCluster.LogDirectory)})...");
            try
            {
                await Task.WhenAll(processes.Select(p => p.WaitUntilReadyAsync(TimeSpan.FromSeconds(120), stop)));
            }
            catch (Exception exception) when (exception is InvalidOperationException or TimeoutException)
            {
                throw new CliError(exception.Message);
            }

            var table = new Table().AddColumns("Silo", "HTTP", "Silo port", "Gateway port");
            foreach (var process in processes)
            {
                table.AddRow(process.Settings.Name, process.BaseAddress.ToString(), process.Settings.SiloPort.ToString(),
                    process.Settings.GatewayPort.ToString());
            }

            AnsiConsole.Write(table);
            AnsiConsole.MarkupLine($"[green]Cluster ready[/] in {clock.Elapsed.TotalSeconds:0.0} s. Try:");
            Console.WriteLine($"  curl -s -X POST {processes[0].BaseAddress}api/sessions/demo/messages -H 'Content-Type: application/json' -d '{{\"text\":\"work 5x1000\"}}'");
            Console.WriteLine($"  curl -s {processes[^1].BaseAddress}api/sessions/demo");
            AnsiConsole.MarkupLine("Press Ctrl+C to stop.");

            var exited = await WaitForAnyExitAsync(processes, stop);
            if (exited is not null)
            {
                AnsiConsole.MarkupLine($"[red]{exited.Settings.Name} exited with code {exited.ExitCode}[/]; stopping the cluster (see {Markup.Escape(exited.Settings.LogFile)}).");
                return 1;
            }

            return 0;
        }
        finally
        {
            AnsiConsole.MarkupLine("Stopping silos...");
            await Task.WhenAll(processes.Select(p => p.StopAsync(TimeSpan.FromSeconds(90))));
            foreach (var process in processes)
            {
                await process.DisposeAsync();
            }

            if (embedded is not null)
            {
                AnsiConsole.MarkupLine("Stopping PostgreSQL...");
            }
        }
    }

    private static async Task<LocalPostgresServer> StartEmbeddedPostgresAsync(CancellationToken cancellationToken)
    {
        try
        {
            return await LocalPostgresServer.StartAsync(LocalCluster.PostgresDataDirectory, LocalCluster.EmbeddedPostgresPort,
                throwaway: false, cancellationToken);
        }
        catch (InvalidOperationException exception)
        {
            throw new CliError($"cannot start the embedded PostgreSQL: {exception.Message}");
        }
    }

    /// <summary>The first silo to exit on its own, or null when <paramref name="stop"/> fired first.</summary>
    private static async Task<SiloProcess?> WaitForAnyExitAsync(IReadOnlyList<SiloProcess> processes, CancellationToken stop)
    {
        var stopped = Task.Delay(Timeout.Infinite, stop);
        var exits = processes.Select(async p =>
        {
            await p.WaitForExitAsync(Timeout.InfiniteTimeSpan, stop);
            return p;
        }).ToList();
        var first = await Task.WhenAny([stopped, .. exits]);
        return first == stopped || stop.IsCancellationRequested ? null : await (Task<SiloProcess>)first;
    }
}
