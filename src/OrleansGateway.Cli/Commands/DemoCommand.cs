using System.CommandLine;
using OrleansGateway.Cli.Demo;

namespace OrleansGateway.Cli.Commands;

/// <summary><c>ogw demo</c>: guided demonstrations on a local cluster of their own.</summary>
public static class DemoCommand
{
    // The built-in agent's limits (ScriptedAgent): checked here so that a bad option fails before the cluster starts.
    private const int MaxSteps = 10_000;
    private const int MaxStepMilliseconds = 600_000;
    private const int MaxSessions = 10_000;

    // The demo's own silos drain for 5 s; those of `ogw up` for Gateway:Resume:DrainTimeout's default of 15 s. Turns of
    // 20 x 500 ms would complete within that drain, and a rolling restart of them would show no resume at all.
    private const int AttachedSteps = 120;

    public static Command Create() => new("demo", "Demonstrations, on a local cluster of their own or (--attach) on the one `ogw up` runs") { RollingRestart() };

    private static Command RollingRestart()
    {
        var cluster = new ClusterCommandOptions(defaultSilos: 3);
        var sessions = new Option<int>("--sessions") { Description = "Sessions, each with one long turn", DefaultValueFactory = _ => 30 };
        var steps = new Option<int>("--steps")
        {
            Description = $"Steps of each turn (30 s at the default pace, so that every silo in turn stops with turns running; {AttachedSteps} with --attach: a minute, so that turns outlast the 15 s drain of `ogw up`'s silos and the page shows them interrupted and resumed)",
            DefaultValueFactory = _ => 60,
        };
        var stepMs = new Option<int>("--step-ms") { Description = "Milliseconds per step", DefaultValueFactory = _ => 500 };
        var drainTimeout = new Option<string>("--drain-timeout") { Description = "How long a stopping silo waits for running turns (Gateway:Resume:DrainTimeout)", DefaultValueFactory = _ => "5s" };
        var killDuringDrain = new Option<bool>("--kill-during-drain") { Description = "SIGKILL each silo shortly after its SIGTERM, in the middle of its drain" };
        var killAfter = new Option<string>("--kill-after") { Description = "With --kill-during-drain: time from SIGTERM to SIGKILL", DefaultValueFactory = _ => "1s" };
        var attach = new Option<bool>("--attach")
        {
            Description = "Restart the silos of the running `ogw up` cluster through its dashboard (--url, --token) instead of starting a cluster; watch it on the dashboard page",
        };
        var dashboard = new OperatorOptions();
        var command = new Command("rolling-restart",
            "Start a local cluster, give every session a long turn, restart the silos one by one, and show that no turn is lost or run twice")
        {
            sessions, steps, stepMs, drainTimeout, killDuringDrain, killAfter, attach, dashboard.Url, dashboard.Token,
        };
        cluster.AddTo(command);
        command.SetAction((parse, cancellationToken) =>
        {
            if (!parse.GetValue(killDuringDrain) && parse.GetResult(killAfter) is { Implicit: false })
            {
                throw new CliError("--kill-after needs --kill-during-drain");
            }

            var attached = parse.GetValue(attach);
            if (attached && (parse.GetValue(killDuringDrain) || parse.GetResult(drainTimeout) is { Implicit: false }))
            {
                throw new CliError("--attach restarts the silos of `ogw up` the way an operator does: --kill-during-drain and --drain-timeout need the demo's own cluster");
            }

            var settings = new RollingRestartSettings(
                cluster.Read(parse),
                parse.GetValue(sessions),
                attached && parse.GetResult(steps) is null or { Implicit: true } ? AttachedSteps : parse.GetValue(steps),
                parse.GetValue(stepMs),
                Durations.Parse(parse.GetValue(drainTimeout)!, "--drain-timeout"),
                parse.GetValue(killDuringDrain) ? Durations.Parse(parse.GetValue(killAfter)!, "--kill-after") : null);
            Validate(settings);
            settings = settings with { Dashboard = attached ? dashboard.Connect(parse) : null };
            return new RollingRestartDemo(settings).RunAsync(cancellationToken);
        });
        return command;
    }

    private static void Validate(RollingRestartSettings settings)
    {
        if (settings.Cluster.Silos < 2)
        {
            throw new CliError("a rolling restart needs --silos 2 or more: the other silos carry the sessions while one restarts");
        }

        settings.Cluster.Validate();
        Require(settings.Sessions is >= 1 and <= MaxSessions, $"--sessions must be between 1 and {MaxSessions}");
        Require(settings.Steps is >= 1 and <= MaxSteps, $"--steps must be between 1 and {MaxSteps}");
        Require(settings.StepMilliseconds is >= 0 and <= MaxStepMilliseconds, $"--step-ms must be between 0 and {MaxStepMilliseconds}");
        Require(settings.DrainTimeout <= TimeSpan.FromMinutes(10), "--drain-timeout must be at most 10m");
        Require(settings.KillAfter is null || settings.KillAfter <= TimeSpan.FromMinutes(10), "--kill-after must be at most 10m");
    }

    private static void Require(bool condition, string problem)
    {
        if (!condition)
        {
            throw new CliError(problem);
        }
    }
}
