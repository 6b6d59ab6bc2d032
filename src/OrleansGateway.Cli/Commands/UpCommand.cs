using System.Buffers.Text;
using System.CommandLine;
using System.Diagnostics;
using System.Security.Cryptography;
using OrleansGateway.Cli.Cluster;
using OrleansGateway.Operations;
using Spectre.Console;

namespace OrleansGateway.Cli.Commands;

/// <summary>
/// <c>ogw up</c>: a whole cluster on this machine (<see cref="LocalClusterHost"/>) until Ctrl+C, which stops
/// everything gracefully.
/// </summary>
public static class UpCommand
{
    public static Command Create()
    {
        var cluster = new ClusterCommandOptions(defaultSilos: 3);
        var dashboardPort = new Option<int>("--dashboard-port")
        {
            Description = "HTTP port of the operator dashboard (0: no dashboard)",
            DefaultValueFactory = _ => DashboardSpec.DefaultPort,
        };
        var command = new Command("up", "Start PostgreSQL (embedded unless ConnectionStrings__Postgres is set), migrate, and run a local cluster " +
            "and its operator dashboard until Ctrl+C");
        cluster.AddTo(command);
        command.Options.Add(dashboardPort);
        command.SetAction((parse, cancellationToken) =>
        {
            var port = parse.GetValue(dashboardPort);
            var spec = cluster.Read(parse) with { Dashboard = port == 0 ? null : new DashboardSpec(port, OperatorToken()) };
            return RunAsync(spec, cancellationToken);
        });
        return command;
    }

    /// <summary><c>OGW_OPERATOR_TOKEN</c>, or a fresh random one for this run.</summary>
    private static string OperatorToken() => Environment.GetEnvironmentVariable("OGW_OPERATOR_TOKEN") is { Length: > 0 } configured
        ? configured
        : Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(24));

    private static async Task<int> RunAsync(LocalClusterSpec spec, CancellationToken stop)
    {
        var clock = Stopwatch.StartNew();
        await using var cluster = await LocalClusterHost.StartAsync(spec, stop);

        AnsiConsole.Write(cluster.SiloTable());
        if (cluster.Dashboard is { } dashboard)
        {
            // Plain Console: the token must come out exactly as it is, to be copied.
            Console.WriteLine($"Dashboard: {dashboard.BaseAddress}  operator token: {dashboard.Settings.OperatorToken}");
            Console.WriteLine($"  (set OGW_OPERATOR_TOKEN to choose the token; the Orleans dashboard is at {dashboard.BaseAddress}orleans/)");
        }

        AnsiConsole.MarkupLine($"[green]Cluster ready[/] in {clock.Elapsed.TotalSeconds:0.0} s. Try:");
        Console.WriteLine($"  curl -s -X POST {cluster.Silos[0].BaseAddress}api/sessions/demo/messages -H 'Content-Type: application/json' -d '{{\"text\":\"work 5x1000\"}}'");
        Console.WriteLine($"  curl -s {cluster.Silos[^1].BaseAddress}api/sessions/demo");
        AnsiConsole.MarkupLine("Press Ctrl+C to stop.");

        // A supervisor for the silos, as systemd or Kubernetes would be: an operator's restart comes back, a drained
        // silo stays out, a crash stops the whole local cluster so that nobody misses it.
        while (await WaitForAnyExitAsync(cluster.Silos, stop) is { } exited)
        {
            var index = cluster.Silos.ToList().IndexOf(exited);
            switch (exited.ExitCode)
            {
                case SiloExitCodes.RestartRequested:
                    AnsiConsole.MarkupLine($"{exited.Settings.Name} restarts, as an operator asked...");
                    await cluster.RestartSiloAsync(index, stop);
                    AnsiConsole.MarkupLine($"[green]{exited.Settings.Name} is back[/] at {cluster.Silos[index].BaseAddress}");
                    break;
                case SiloExitCodes.Stopped:
                    AnsiConsole.MarkupLine($"{exited.Settings.Name} was drained and stopped; the other silos keep running.");
                    break;
                default:
                    AnsiConsole.MarkupLine($"[red]{exited.Settings.Name} exited with code {exited.ExitCode}[/]; stopping the cluster (see {Markup.Escape(exited.Settings.LogFile)}).");
                    return 1;
            }
        }

        return 0;
    }

    /// <summary>The first running silo to exit on its own, or null when <paramref name="stop"/> fired first.</summary>
    private static async Task<SiloProcess?> WaitForAnyExitAsync(IReadOnlyList<SiloProcess> silos, CancellationToken stop)
    {
        var processes = silos.Where(p => !p.HasExited).ToList();
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
