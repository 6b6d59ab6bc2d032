using System.Text.RegularExpressions;
using OrleansGateway.Cli.Commands;
using OrleansGateway.Cli.Demo;
using OrleansGateway.LocalCluster;
using OrleansGateway.Tests.Infrastructure;

namespace OrleansGateway.Tests.Cli;

/// <summary><c>ogw demo rolling-restart</c> and <c>rolling-upgrade</c> as a user runs them: their own cluster, their own verdict.</summary>
[Collection(PostgresCollection.Name)]
public sealed class DemoCommandTests(PostgresFixture postgres)
{
    [Fact]
    public async Task A_rolling_restart_with_a_kill_in_every_drain_loses_no_turn_and_says_so()
    {
        var (output, home) = await RunDemoAsync(portsPerKind: 2, "rolling-restart", "--silos", "2", "--sessions", "6", "--steps", "8", "--step-ms", "300",
            "--kill-during-drain");

        AssertNothingLostOrDoubled(output, sessions: 6);
        Assert.True(Row(output, "interrupted") >= 1, $"no turn was interrupted, so nothing was shown:\n{output}");
        Assert.True(Row(output, "premarked") >= 1, $"no session was premarked:\n{output}");
        Directory.Delete(home, recursive: true);
    }

    [Fact]
    public async Task A_rolling_upgrade_from_the_last_release_loses_no_turn_and_shows_the_versions()
    {
        const int silos = 2;
        var (release, current) = (ReleaseBuild.Latest(), RollingUpgradeSettings.CurrentVersion);

        // The old silos and their successors: twice as many ports of each kind.
        var (output, home) = await RunDemoAsync(portsPerKind: 2 * silos, "rolling-upgrade", "--silos", $"{silos}", "--sessions", "6", "--steps", "30",
            "--step-ms", "400", "--drain-timeout", "2s");

        Assert.Contains($"building {release.Version} ({release.Commit[..7]}) ...", output);
        AssertNothingLostOrDoubled(output, sessions: 6);
        // Release 0.1 predates the preference for the newest silos: one of its silos may resume a session it stops later.
        Assert.InRange(Row(output, "max interruptions"), 0, silos);
        foreach (var versions in new[] { $"{release.Version} x{silos}", $"{release.Version} x{silos - 1}, {current} x1", $"{current} x{silos}" })
        {
            Assert.Matches($@"t\+\d+s\s+{Regex.Escape(versions)}\b", output);
        }

        Directory.Delete(home, recursive: true);
    }

    [Fact]
    public async Task A_rolling_upgrade_from_a_ref_that_does_not_resolve_fails_with_one_line_before_anything_starts()
    {
        var (exitCode, output) = await OgwProcess.RunAsync(UnreachableDatabase(), ["demo", "rolling-upgrade", "--from", "no-such-ref-42"]);

        Assert.NotEqual(0, exitCode);
        var line = Assert.Single(output.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("ogw: --from no-such-ref-42: ", line);
    }

    [Theory]
    [InlineData("a rolling restart needs --silos 2 or more", "--silos", "1")]
    [InlineData("--sessions must be between 1 and", "--sessions", "0")]
    [InlineData("--steps must be between 1 and", "--steps", "0")]
    [InlineData("--drain-timeout 'soon' is not a duration", "--drain-timeout", "soon")]
    [InlineData("--kill-after needs --kill-during-drain", "--kill-after", "2s")]
    public async Task A_bad_option_fails_with_one_line_before_anything_starts(string expected, params string[] options)
    {
        var (exitCode, output) = await OgwProcess.RunAsync(UnreachableDatabase(), ["demo", "rolling-restart", .. options]);

        Assert.Equal(ExitCodes.Usage, exitCode);
        var line = Assert.Single(output.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith($"ogw: {expected}", line);
    }

    /// <summary>
    /// Runs <c>ogw demo &lt;demo&gt;</c> on a database of its own and ports of its own (runs of <paramref name="portsPerKind"/>)
    /// to its end, which must be exit code 0; its output and its <c>OGW_HOME</c> (silo logs).
    /// </summary>
    private async Task<(string Output, string Home)> RunDemoAsync(int portsPerKind, string demo, params string[] options)
    {
        var home = Directory.CreateTempSubdirectory("ogw-demo-home-").FullName;
        var environment = new Dictionary<string, string>
        {
            ["ConnectionStrings__Postgres"] = await postgres.CreateDatabaseAsync("demo"),
            ["Orleans__ClusterId"] = $"demo-{Guid.NewGuid():N}"[..12],
            ["OGW_HOME"] = home,
        };
        var (http, silo, gateway) = (FreePorts.Run(portsPerKind), FreePorts.Run(portsPerKind), FreePorts.Run(portsPerKind));

        await using var process = OgwProcess.Start(environment, ["demo", demo, .. options, "--http-port", $"{http}", "--silo-port", $"{silo}", "--gateway-port", $"{gateway}"]);

        // A generous bound for a loaded machine; a healthy run takes about a minute.
        Assert.True(await process.WaitForExitAsync(TimeSpan.FromSeconds(240)), $"the demo did not finish:\n{process.Output}\n{SiloLogs(home)}");
        Assert.True(process.ExitCode == 0, $"exit code {process.ExitCode}:\n{process.Output}\n{SiloLogs(home)}");
        return (process.Output, home);
    }

    private static void AssertNothingLostOrDoubled(string output, int sessions)
    {
        Assert.Equal(sessions, Row(output, "sessions"));
        Assert.Equal(0, Row(output, "lost"));
        Assert.Equal(0, Row(output, "quarantined"));
        Assert.Equal(0, Row(output, "duplicate executions"));
    }

    /// <summary>No database: a bad option must be refused before the command tries to reach one.</summary>
    private static Dictionary<string, string> UnreachableDatabase() =>
        new() { ["ConnectionStrings__Postgres"] = $"Host=127.0.0.1;Port={PostgresFixture.FreeTcpPort()};Username=postgres;Timeout=3" };

    /// <summary>The number in the row of the demo's result table that <paramref name="name"/> labels.</summary>
    private static int Row(string output, string name)
    {
        var match = Regex.Match(output, $@"^\W*{Regex.Escape(name)}\W+(\d+)", RegexOptions.Multiline);
        Assert.True(match.Success, $"no row '{name}' in the demo's output:\n{output}");
        return int.Parse(match.Groups[1].Value);
    }

    private static string SiloLogs(string home)
    {
        var logs = Path.Combine(home, "logs");
        return Directory.Exists(logs)
            ? string.Join("\n", Directory.GetFiles(logs).Order().Select(file => $"--- {Path.GetFileName(file)} ---\n{string.Join("\n", File.ReadLines(file).TakeLast(30))}"))
            : "(no silo logs)";
    }
}
