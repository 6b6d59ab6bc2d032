using System.Buffers.Text;
using System.CommandLine;
using System.Diagnostics;
using System.Security.Cryptography;
using OrleansGateway.LocalCluster;
using OrleansGateway.Operations;
using Spectre.Console;

namespace OrleansGateway.Cli.Commands;

/// <summary>
/// <c>ogw up</c>: a whole cluster on this machine (<see cref="LocalClusterHost"/>) until Ctrl+C, which stops
/// everything gracefully.
/// </summary>
public static class UpCommand
{
    private const int DashboardRestartLimit = 3;
    private static readonly TimeSpan DashboardRestartWindow = TimeSpan.FromMinutes(1);

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
            var spec = cluster.Read(parse);
            spec = spec with
            {
                Dashboard = port == 0 ? null : new DashboardSpec(port, OperatorToken()),
                SiloEnvironment = new Dictionary<string, string>(spec.SiloEnvironment) { [ApiKeySetting] = ApiKey() },
            };
            ClusterCommandOptions.Validate(spec);
            BuiltProgram.RequireLocalCluster(withDashboard: spec.Dashboard is not null);
            return RunAsync(spec, cancellationToken);
        });
        return command;
    }

    /// <summary>The one API client of a local cluster, whose key <c>ogw up</c> prints.</summary>
    public const string ApiClientName = "local";

    /// <summary>Where <c>ogw chat</c> and the user's shell find the API key of <see cref="ApiClientName"/>.</summary>
    public const string ApiKeyVariable = "OGW_API_KEY";

    private const string ApiKeySetting = $"Gateway__Clients__{ApiClientName}__Key";

    /// <summary><c>OGW_API_KEY</c>, else a fresh random one for this run.</summary>
    private static string ApiKey() => Environment.GetEnvironmentVariable(ApiKeyVariable) is { Length: > 0 } configured ? configured : RandomSecret();

    private static string RandomSecret() => Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(24));

    /// <summary><c>OGW_OPERATOR_TOKEN</c>, else the file <c>OGW_OPERATOR_TOKEN_FILE</c> names (as the operator commands read them), else a fresh random one for this run.</summary>
    private static string OperatorToken() =>
        Environment.GetEnvironmentVariable(OperatorOptions.TokenVariable) is { Length: > 0 } configured ? configured
        : Environment.GetEnvironmentVariable(OperatorOptions.TokenFileVariable) is { Length: > 0 } path ? TokenFiles.Read(path, OperatorOptions.TokenFileVariable)
        : RandomSecret();

    private static async Task<int> RunAsync(LocalClusterSpec spec, CancellationToken stop)
    {
        var clock = Stopwatch.StartNew();
        await using var cluster = await LocalClusterHost.StartAsync(spec, stop);

        TableOutput.Write(cluster.SiloTable());
        if (cluster.Dashboard is { } dashboard)
        {
            // Plain Console: the token must come out exactly as it is, to be copied.
            Console.WriteLine($"Dashboard: {dashboard.BaseAddress}  operator token: {dashboard.Settings.OperatorToken}");
            Console.WriteLine($"  (set {OperatorOptions.TokenVariable} or {OperatorOptions.TokenFileVariable} to choose the token; the Orleans dashboard is at {dashboard.BaseAddress}orleans/)");
        }

        var apiKey = spec.SiloEnvironment[ApiKeySetting];
        Console.WriteLine($"API key of client {ApiClientName}: {apiKey}");
        Console.WriteLine($"  (set {ApiKeyVariable} to choose the key; ogw chat reads it from there)");
        AnsiConsole.MarkupLine($"[green]Cluster ready[/] in {clock.Elapsed.TotalSeconds:0.0} s. Try:");
        Console.WriteLine($"  export {ApiKeyVariable}={apiKey}");
        Console.WriteLine($"  curl -s -X POST {cluster.Silos[0].BaseAddress}api/sessions/demo/messages -H \"Authorization: Bearer ${ApiKeyVariable}\" -H 'Content-Type: application/json' -d '{{\"text\":\"work 5x1000\"}}'");
        Console.WriteLine($"  curl -s {cluster.Silos[^1].BaseAddress}api/sessions/demo -H \"Authorization: Bearer ${ApiKeyVariable}\"");
        AnsiConsole.MarkupLine("Press Ctrl+C to stop.");

        // A supervisor, as systemd or Kubernetes would be: an operator's restart of a silo comes back, a drained silo
        // stays out, a silo's crash stops the whole local cluster so that nobody misses it. The dashboard only shows and
        // steers: when it dies the silos keep running and it is started again, unless it keeps dying.
        var dashboardExits = new Queue<long>();
        while (await WaitForAnyExitAsync(cluster, stop) is { } exited)
        {
            if (exited.Dashboard is { } stoppedDashboard)
            {
                await RestartDashboardAsync(cluster, stoppedDashboard, dashboardExits, stop);
                continue;
            }

            var silo = exited.Silo!;
            var index = cluster.Silos.ToList().IndexOf(silo);
            switch (silo.ExitCode)
            {
                case SiloExitCodes.RestartRequested:
                    AnsiConsole.MarkupLine($"{silo.Settings.Name} restarts, as an operator asked...");
                    await cluster.RestartSiloAsync(index, stop);
                    AnsiConsole.MarkupLine($"[green]{silo.Settings.Name} is back[/] at {cluster.Silos[index].BaseAddress}");
                    break;
                case SiloExitCodes.Stopped:
                    AnsiConsole.MarkupLine($"{silo.Settings.Name} was drained and stopped; the other silos keep running.");
                    break;
                default:
                    AnsiConsole.MarkupLine($"[red]{silo.Settings.Name} exited with code {silo.ExitCode}[/]; stopping the cluster (see {Markup.Escape(silo.Settings.LogFile)}).");
                    return 1;
            }
        }

        return 0;
    }

    /// <summary>
    /// Starts the dashboard again after it exited, unless it exited <see cref="DashboardRestartLimit"/> times within
    /// <see cref="DashboardRestartWindow"/>: a dashboard that cannot run is left down, said once, instead of restarted forever.
    /// </summary>
    private static async Task RestartDashboardAsync(LocalClusterHost cluster, DashboardProcess exited, Queue<long> exits, CancellationToken stop)
    {
        // Stopwatch timestamps: the window is a duration, and a wall clock set back must not stretch it.
        exits.Enqueue(Stopwatch.GetTimestamp());
        while (Stopwatch.GetElapsedTime(exits.Peek()) > DashboardRestartWindow)
        {
            exits.Dequeue();
        }

        var log = Markup.Escape(exited.Settings.LogFile);
        if (exits.Count >= DashboardRestartLimit)
        {
            AnsiConsole.MarkupLine($"[red]The dashboard exited with code {exited.ExitCode}[/], {exits.Count} times in {DashboardRestartWindow.TotalSeconds:0} s: " +
                $"it stays down (see {log}); the silos keep running.");
            return;
        }

        AnsiConsole.MarkupLine($"[yellow]The dashboard exited with code {exited.ExitCode}[/] (see {log}); starting it again...");
        try
        {
            var dashboard = await cluster.RestartDashboardAsync(stop);
            AnsiConsole.MarkupLine($"[green]The dashboard is back[/] at {dashboard.BaseAddress}, with the same operator token.");
        }
        catch (LocalClusterException error)
        {
            AnsiConsole.MarkupLine($"[red]The dashboard did not come back:[/] {Markup.Escape(error.Message)}");
        }
    }

    /// <summary>A process of the cluster that ended on its own: a silo or the dashboard.</summary>
    private sealed record Exited(SiloProcess? Silo, DashboardProcess? Dashboard);

    /// <summary>The first running silo or dashboard to exit on its own, or null when <paramref name="stop"/> fired first.</summary>
    private static async Task<Exited?> WaitForAnyExitAsync(LocalClusterHost cluster, CancellationToken stop)
    {
        var stopped = Task.Delay(Timeout.Infinite, stop);
        var exits = cluster.Silos.Where(p => !p.HasExited).Select(p => ExitOf(p.WaitForExitAsync, new Exited(p, null))).ToList();
        if (cluster.Dashboard is { HasExited: false } dashboard)
        {
            exits.Add(ExitOf(dashboard.WaitForExitAsync, new Exited(null, dashboard)));
        }

        var first = await Task.WhenAny([stopped, .. exits]);
        return first == stopped || stop.IsCancellationRequested ? null : await (Task<Exited>)first;

        async Task<Exited> ExitOf(Func<TimeSpan, CancellationToken, Task<bool>> waitForExit, Exited exited)
        {
            await waitForExit(Timeout.InfiniteTimeSpan, stop);
            return exited;
        }
    }
}
