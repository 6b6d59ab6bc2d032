using System.Text.RegularExpressions;
using OrleansGateway.Cli.Commands;
using OrleansGateway.Cli.Demo.Chaos;
using OrleansGateway.Tests.Infrastructure;

namespace OrleansGateway.Tests.Cli;

/// <summary>
/// <c>ogw demo chaos</c> as a developer runs it, short: one round of each action (the deck deals each once in seven
/// rounds), on a cluster and an embedded PostgreSQL of its own, so that the soak can restart the database too.
/// </summary>
public sealed class ChaosSoakTests
{
    [Fact]
    public async Task A_seeded_soak_of_every_action_once_loses_nothing_and_overlaps_nothing()
    {
        var rounds = Enum.GetValues<ChaosAction>().Length;
        var home = Directory.CreateTempSubdirectory("ogw-chaos-home-").FullName;
        var environment = new Dictionary<string, string>
        {
            ["OGW_HOME"] = home,
            ["OGW_PG_PORT"] = $"{PostgresFixture.FreeTcpPort()}",
            ["ConnectionStrings__Postgres"] = "",
        };
        var (http, silo, gateway, dashboard) = (FreePorts.Run(3), FreePorts.Run(3), FreePorts.Run(3), FreePorts.Run(1));

        await using var process = OgwProcess.Start(environment, ["demo", "chaos", "--rounds", $"{rounds}", "--seed", "2026", "--sessions", "8",
            "--http-port", $"{http}", "--silo-port", $"{silo}", "--gateway-port", $"{gateway}", "--dashboard-port", $"{dashboard}"]);

        // A healthy run takes about two minutes.
        Assert.True(await process.WaitForExitAsync(TimeSpan.FromMinutes(8)), $"the soak did not finish:\n{process.Output}");
        var output = process.Output;
        Assert.True(process.ExitCode == 0, $"exit code {process.ExitCode}:\n{output}");
        Assert.Contains($"Seed 2026, {rounds} rounds: ", output);
        foreach (var action in new[] { "SIGTERM", "SIGKILL in drain", "SIGKILL", "SIGSTOP, SIGCONT", "PostgreSQL restart", "suspend, resume", "dashboard drain" })
        {
            Assert.Matches($@"round \d/{rounds}: {Regex.Escape(action)} \(", output);
        }

        Assert.DoesNotContain("No PostgreSQL restarts", output);
        Assert.Equal(rounds, Row(output, "rounds"));
        Assert.True(Row(output, "acknowledged") >= 8, output);
        Assert.Equal(Row(output, "acknowledged"), Row(output, "completed"));
        Assert.True(Row(output, "resumed") >= 1, $"no turn was resumed, so the soak proved little:\n{output}");
        foreach (var none in new[] { "lost", "overlaps", "unexplained executions", "quarantined", "violations" })
        {
            Assert.True(Row(output, none) == 0, $"{none}:\n{output}");
        }

        Directory.Delete(home, recursive: true);
    }

    [Theory]
    [InlineData("--rounds must be between 1 and", "--rounds", "0")]
    [InlineData("a chaos soak needs --silos 2 or more", "--silos", "1")]
    [InlineData("--drain-timeout 'soon' is not a duration", "--drain-timeout", "soon")]
    public async Task A_bad_option_fails_with_one_line_before_anything_starts(string expected, params string[] options)
    {
        var unreachable = new Dictionary<string, string> { ["OGW_PG_PORT"] = "0" };

        var (exitCode, output) = await OgwProcess.RunAsync(unreachable, ["demo", "chaos", .. options]);

        Assert.Equal(ExitCodes.Usage, exitCode);
        Assert.StartsWith($"ogw: {expected}", Assert.Single(output.Split('\n', StringSplitOptions.RemoveEmptyEntries)));
    }

    /// <summary>The number in the row that <paramref name="name"/> labels in the last table, the summary.</summary>
    private static int Row(string output, string name)
    {
        var match = Regex.Matches(output, $@"^\W*{Regex.Escape(name)}\W+(\d+)", RegexOptions.Multiline).LastOrDefault();
        Assert.True(match is not null, $"no row '{name}' in the soak's output:\n{output}");
        return int.Parse(match.Groups[1].Value);
    }
}
