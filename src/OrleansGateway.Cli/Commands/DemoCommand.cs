using System.Security.Cryptography;
using System.CommandLine;
using OrleansGateway.Agents;
using OrleansGateway.Cli.Demo;
using OrleansGateway.Cli.Demo.Chaos;
using OrleansGateway.LocalCluster;

namespace OrleansGateway.Cli.Commands;

/// <summary><c>ogw demo</c>: guided demonstrations on a local cluster of their own.</summary>
public static class DemoCommand
{
    private const int MaxSessions = 10_000;

    // The demo's own silos drain for 5 s; those of `ogw up` for Gateway:Resume:DrainTimeout's default of 15 s. Turns of
    // 20 x 500 ms would complete within that drain, and a rolling restart of them would show no resume at all.
    private const int AttachedSteps = 120;

    public static Command Create() => new("demo", "Demonstrations, on a local cluster of their own or (--attach) on the one `ogw up` runs")
    {
        RollingRestart(), RollingUpgrade(), Chaos(),
    };

    private static Command RollingRestart()
    {
        var turns = new LongTurnOptions(defaultSteps: 60,
            $"Steps of each turn (30 s at the default pace, so that every silo in turn stops with turns running; {AttachedSteps} with --attach: a minute, so that turns outlast the 15 s drain of `ogw up`'s silos and the page shows them interrupted and resumed)");
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
            killDuringDrain, killAfter, attach, dashboard.Url, dashboard.Token, dashboard.TokenFile,
        };
        turns.AddTo(command);
        command.SetAction((parse, cancellationToken) =>
        {
            if (!parse.GetValue(killDuringDrain) && parse.GetResult(killAfter) is { Implicit: false })
            {
                throw CliError.Usage("--kill-after needs --kill-during-drain");
            }

            var attached = parse.GetValue(attach);
            if (attached && (parse.GetValue(killDuringDrain) || parse.GetResult(turns.DrainTimeout) is { Implicit: false }))
            {
                throw CliError.Usage("--attach restarts the silos of `ogw up` the way an operator does: --kill-during-drain and --drain-timeout need the demo's own cluster");
            }

            var settings = new RollingRestartSettings(
                turns.Cluster.Read(parse),
                parse.GetValue(turns.Sessions),
                attached && parse.GetResult(turns.Steps) is null or { Implicit: true } ? AttachedSteps : parse.GetValue(turns.Steps),
                parse.GetValue(turns.StepMs),
                turns.ReadDrainTimeout(parse),
                parse.GetValue(killDuringDrain) ? Durations.Parse(parse.GetValue(killAfter)!, "--kill-after") : null);
            if (settings.Cluster.Silos < 2)
            {
                throw CliError.Usage("a rolling restart needs --silos 2 or more: the other silos carry the sessions while one restarts");
            }

            Validate(settings.Cluster, settings.Sessions, settings.Steps, settings.StepMilliseconds, settings.DrainTimeout);
            Require(settings.KillAfter is null || settings.KillAfter <= TimeSpan.FromMinutes(10), "--kill-after must be at most 10m");
            settings = settings with { Dashboard = attached ? dashboard.Connect(parse) : null };
            if (!attached)
            {
                BuiltProgram.RequireLocalCluster(withDashboard: false);
            }

            return new RollingRestartDemo(settings).RunAsync(cancellationToken);
        });
        return command;
    }

    private static Command RollingUpgrade()
    {
        // 100 s: the upgrade of three silos (each a successor's start, a 5 s drain and an exit) takes about a minute on a
        // laptop, and it begins a quarter into the turns; so every old silo stops with turns running.
        var turns = new LongTurnOptions(defaultSteps: 200, "Steps of each turn (100 s at the default pace, so that every old silo stops with turns running)");
        var from = new Option<string>("--from") { Description = "The release (a version of upgrade/releases) or git ref to upgrade from; by default the last release" };
        var command = new Command("rolling-upgrade",
            "Start a local cluster of an old release, give every session a long turn, migrate the schema, replace the silos one by one with this build's, and show that no turn is lost or run twice")
        {
            from,
        };
        turns.AddTo(command);
        command.SetAction(async (parse, cancellationToken) =>
        {
            // Each silo's successor starts on the ports after the first silos'.
            var first = turns.Cluster.Read(parse);
            var cluster = first with { Successors = first.Silos };
            var (sessions, steps, stepMs, drainTimeout) =
                (parse.GetValue(turns.Sessions), parse.GetValue(turns.Steps), parse.GetValue(turns.StepMs), turns.ReadDrainTimeout(parse));
            Validate(cluster, sessions, steps, stepMs, drainTimeout);
            BuiltProgram.RequireLocalCluster(withDashboard: false);

            var origin = await UpgradeOrigin.BuildAsync(parse.GetValue(from), cancellationToken);
            var settings = new RollingUpgradeSettings(cluster, sessions, steps, stepMs, drainTimeout, origin);
            return await new RollingUpgradeDemo(settings).RunAsync(cancellationToken);
        });
        return command;
    }

    private static Command Chaos()
    {
        const int maxRounds = 1_000;
        var cluster = new ClusterCommandOptions(defaultSilos: 3);
        var rounds = new Option<int>("--rounds") { Description = "Rounds, each one random thing going wrong", DefaultValueFactory = _ => 10 };
        var seed = new Option<int?>("--seed") { Description = "The seed of the rounds' plan (printed by every run, to replay it); random by default" };
        var sessions = new Option<int>("--sessions") { Description = "Sessions, each posting work all along", DefaultValueFactory = _ => 12 };
        var stepMs = new Option<int>("--step-ms")
        {
            Description = $"Milliseconds per step; each message is {ChaosSettings.MinSteps} to {ChaosSettings.MaxSteps} steps",
            DefaultValueFactory = _ => 250,
        };
        var drainTimeout = new Option<string>("--drain-timeout")
        {
            Description = "How long a stopping silo waits for running turns (Gateway:Resume:DrainTimeout)",
            DefaultValueFactory = _ => "2s",
        };
        var dashboardPort = new Option<int>("--dashboard-port")
        {
            Description = "Port of the cluster's dashboard, through which the operator's actions go",
            DefaultValueFactory = _ => DashboardSpec.DefaultPort,
        };
        var command = new Command("chaos",
            "Start a local cluster with work in flight and, round after round, do one random thing to it (SIGTERM, SIGKILL in the drain, SIGKILL, " +
            "SIGSTOP past failure detection then SIGCONT, a PostgreSQL restart, an operator's suspend and resume, a drain through the dashboard); " +
            "check after each round that nothing acknowledged is lost, no turn runs twice at once, and nothing healthy is quarantined")
        {
            rounds, seed, sessions, stepMs, drainTimeout, dashboardPort,
        };
        cluster.AddTo(command);
        command.SetAction((parse, cancellationToken) =>
        {
            var spec = cluster.Read(parse) with { Dashboard = new DashboardSpec(parse.GetValue(dashboardPort), Convert.ToHexString(RandomNumberGenerator.GetBytes(16))) };
            var (roundCount, stepMilliseconds) = (parse.GetValue(rounds), parse.GetValue(stepMs));
            var timeout = Durations.Parse(parse.GetValue(drainTimeout)!, "--drain-timeout");
            Require(roundCount is >= 1 and <= maxRounds, $"--rounds must be between 1 and {maxRounds}");
            Require(spec.Silos >= 2, "a chaos soak needs --silos 2 or more: the other silos carry the sessions while one is down");
            Validate(spec, parse.GetValue(sessions), ChaosSettings.MaxSteps, stepMilliseconds, timeout);
            BuiltProgram.RequireLocalCluster(withDashboard: true);
            var traceFolder = Path.Combine(LocalClusterEnvironment.Home, "chaos", $"{DateTime.UtcNow:yyyyMMdd-HHmmss}-steps");
            var settings = new ChaosSettings(spec, roundCount, parse.GetValue(seed) ?? Random.Shared.Next(1, 1_000_000), parse.GetValue(sessions),
                stepMilliseconds, timeout, spec.Dashboard!, traceFolder);
            return new ChaosSoak(settings).RunAsync(cancellationToken);
        });
        return command;
    }

    private static void Validate(LocalClusterSpec cluster, int sessions, int steps, int stepMilliseconds, TimeSpan drainTimeout)
    {
        ClusterCommandOptions.Validate(cluster);
        Require(sessions is >= 1 and <= MaxSessions, $"--sessions must be between 1 and {MaxSessions}");
        // The built-in agent's limits, checked here so that a bad option fails before the cluster starts.
        Require(steps is >= 1 and <= ScriptedAgentLimits.MaxSteps, $"--steps must be between 1 and {ScriptedAgentLimits.MaxSteps}");
        Require(stepMilliseconds is >= 0 and <= ScriptedAgentLimits.MaxStepMilliseconds,
            $"--step-ms must be between 0 and {ScriptedAgentLimits.MaxStepMilliseconds}");
        Require(drainTimeout <= TimeSpan.FromMinutes(10), "--drain-timeout must be at most 10m");
    }

    private static void Require(bool condition, string problem)
    {
        if (!condition)
        {
            throw CliError.Usage(problem);
        }
    }

    /// <summary>The options of the demos whose sessions each run one long turn while the silos are stopped one by one.</summary>
    private sealed class LongTurnOptions(int defaultSteps, string stepsDescription)
    {
        public ClusterCommandOptions Cluster { get; } = new(defaultSilos: 3);

        public Option<int> Sessions { get; } = new("--sessions") { Description = "Sessions, each with one long turn", DefaultValueFactory = _ => 30 };

        public Option<int> Steps { get; } = new("--steps") { Description = stepsDescription, DefaultValueFactory = _ => defaultSteps };

        public Option<int> StepMs { get; } = new("--step-ms") { Description = "Milliseconds per step", DefaultValueFactory = _ => 500 };

        public Option<string> DrainTimeout { get; } = new("--drain-timeout")
        {
            Description = "How long a stopping silo waits for running turns (Gateway:Resume:DrainTimeout)",
            DefaultValueFactory = _ => "5s",
        };

        public void AddTo(Command command)
        {
            foreach (var option in new Option[] { Sessions, Steps, StepMs, DrainTimeout })
            {
                command.Options.Add(option);
            }

            Cluster.AddTo(command);
        }

        public TimeSpan ReadDrainTimeout(ParseResult parse) => Durations.Parse(parse.GetValue(DrainTimeout)!, "--drain-timeout");
    }
}
