using System.Diagnostics;
using Npgsql;
using OrleansGateway.Cli.Commands;
using OrleansGateway.Cli.Operator;
using OrleansGateway.LocalCluster;
using OrleansGateway.Sessions;
using OrleansGateway.Storage;
using Spectre.Console;

namespace OrleansGateway.Cli.Demo.Chaos;

/// <summary>
/// <c>ogw demo chaos</c>: a cluster of its own carries work from every session while, round after round, one random
/// thing goes wrong. After each round the invariants are checked; at the end, every acknowledged message must have
/// completed. A violation ends the rounds, and the run exits non-zero with the command that replays its plan.
/// </summary>
public sealed class ChaosSoak(ChaosSettings settings)
{
    // Turns get going before the first round, and again between rounds, so that every action meets work in flight.
    private static readonly TimeSpan Calm = TimeSpan.FromSeconds(2);
    private static readonly TimeSpan SettleTimeout = TimeSpan.FromSeconds(60);

    public async Task<int> RunAsync(CancellationToken stop)
    {
        await using var host = await LocalClusterHost.StartAsync(settings.DemoCluster, stop);
        TableOutput.Write(host.SiloTable());
        var actions = Enum.GetValues<ChaosAction>().Where(action => action != ChaosAction.PostgresRestart || host.CanRestartPostgres).ToList();
        if (!host.CanRestartPostgres)
        {
            AnsiConsole.MarkupLine("[yellow]No PostgreSQL restarts:[/] the database is not the embedded server this ogw runs (ConnectionStrings__Postgres is set).");
        }

        var plan = ChaosPlan.Draw(settings.Seed, settings.Rounds, settings.Cluster.Silos, settings.Sessions, actions);
        AnsiConsole.MarkupLine($"Seed [bold]{settings.Seed}[/], {plan.Count} rounds: {Markup.Escape(string.Join(", ", plan.Select(r => r.Name)))}");

        await using var dataSource = GatewayDataSource.Create(host.ConnectionString, "ogw-chaos");
        // An attached demo talks to silos that may ask for a key: that of `ogw up`, as a user's shell has it.
        using var api = new GatewayApi(Environment.GetEnvironmentVariable(Commands.UpCommand.ApiKeyVariable));
        using var dashboard = new OperatorApiClient(new Uri($"http://127.0.0.1:{settings.Dashboard.Port}/"), settings.Dashboard.OperatorToken);
        var runId = $"{DateTime.UtcNow:HHmmss}-{Guid.NewGuid():N}"[..13];
        var sessionIds = Enumerable.Range(1, settings.Sessions).Select(i => $"chaos-{runId}-{i:00}").ToList();
        var membership = new MembershipTable(dataSource);
        var ledger = new SessionQueries(dataSource);
        var moves = new ChaosMoves(host, settings, dashboard, membership, ledger, sessionIds);
        var traffic = new ChaosTraffic(api, moves.SilosUp, sessionIds, settings.StepMilliseconds, settings.Seed);
        var checks = new ChaosChecks(settings, ledger, new EventHistory(dataSource), membership, moves, traffic, sessionIds);

        using var posting = CancellationTokenSource.CreateLinkedTokenSource(stop);
        var users = traffic.RunAsync(posting.Token, stop);
        await checks.StartAsync(stop);
        await Task.Delay(Calm, stop);
        var played = new List<(ChaosRound Round, string Happened, RoundFindings Findings)>();
        foreach (var round in plan)
        {
            var clock = Stopwatch.StartNew();
            var inFlight = traffic.InFlight.Count;
            var happened = await moves.PlayAsync(round, stop);
            await checks.SettleAsync(SettleTimeout, stop);
            var findings = await checks.AfterRoundAsync(stop);
            played.Add((round, happened, findings));
            TableOutput.Write(RoundTable(round, plan.Count, happened, inFlight, findings, clock.Elapsed));
            if (checks.Violations.Count > 0)
            {
                AnsiConsole.MarkupLine("[red]Invariant violated: no more rounds.[/]");
                break;
            }

            await Task.Delay(Calm, stop);
        }

        AnsiConsole.MarkupLine($"Rounds done; no new messages. Waiting up to {Durations.Format(settings.CompletionTimeout)} for every acknowledged one to complete...");
        await posting.CancelAsync();
        await users;
        await traffic.WaitForAllAsync(settings.CompletionTimeout, stop);
        var summary = await checks.FinalAsync(stop);
        TableOutput.Write(SummaryTable(played, summary));
        if (checks.Violations.Count > 0)
        {
            foreach (var violation in checks.Violations)
            {
                AnsiConsole.MarkupLine($"[red]violation:[/] {Markup.Escape(violation)}");
            }

            throw new CliError($"{checks.Violations.Count} invariant violations in seed {settings.Seed}; replay: {settings.ReplayCommand} (silo logs in {LocalClusterEnvironment.LogDirectory})");
        }

        AnsiConsole.MarkupLine($"[green]No violation in {played.Count} rounds:[/] every acknowledged message completed, no two executions of a turn overlapped, " +
            "every execution is in the history, and nothing was quarantined.");
        return 0;
    }

    private static Table RoundTable(ChaosRound round, int rounds, string happened, int inFlight, RoundFindings findings, TimeSpan took)
    {
        var table = new Table().Title($"round {round.Number}/{rounds}: {Markup.Escape(round.Name)} ({Durations.Format(took)})").HideHeaders()
            .AddColumns("", "");
        table.AddRow("what happened", Markup.Escape(happened));
        table.AddRow("turns in flight", $"{inFlight}");
        table.AddRow("events", Markup.Escape(findings.Events));
        table.AddRow("acknowledged", $"{findings.Acknowledged} ({findings.Completed} completed)");
        table.AddRow("checks", findings.NewViolations.Count == 0 ? "[green]ok[/]" : $"[red]{Markup.Escape(string.Join("; ", findings.NewViolations))}[/]");
        return table;
    }

    private static Table SummaryTable(List<(ChaosRound Round, string Happened, RoundFindings Findings)> played, SoakSummary summary)
    {
        var table = new Table().Title("chaos soak").AddColumns("", "", "");
        table.AddRow("rounds", $"{played.Count}", Markup.Escape(string.Join(", ", played.GroupBy(p => p.Round.Name).Select(g => $"{g.Key} x{g.Count()}"))));
        table.AddRow("acknowledged", $"{summary.Acknowledged}", "messages answered 202");
        table.AddRow("completed", $"{summary.Completed}", "of them, completed with the reply their work asks for");
        table.AddRow("resumed", $"{summary.Resumed}", "turns that ran again from their checkpoint (more than one execution)");
        table.AddRow("frozen tails", $"{summary.FrozenTails}", "steps frozen by SIGSTOP that finished on SIGCONT, their checkpoints fenced off");
        table.AddRow("lost", $"{summary.Lost}", "acknowledged messages that did not complete");
        table.AddRow("overlaps", $"{summary.Overlaps}", "times two executions of a turn ran a step at once");
        table.AddRow("unexplained executions", $"{summary.Unexplained}", "turns that ran more often than their history explains");
        table.AddRow("quarantined", $"{summary.Quarantined}", "healthy sessions quarantined");
        table.AddRow("violations", $"{summary.Violations}", "");
        return table;
    }

    /// <summary>Reads of the soak's own database, which a PostgreSQL restart of the soak interrupts too: tried again.</summary>
    public static async Task<T> RetryAsync<T>(Func<Task<T>> read, CancellationToken stop)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await read();
            }
            catch (NpgsqlException) when (attempt < 60 && !stop.IsCancellationRequested)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(500), stop);
            }
        }
    }
}
