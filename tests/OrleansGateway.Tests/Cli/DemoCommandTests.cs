using System.Text.RegularExpressions;
using OrleansGateway.Tests.Infrastructure;

namespace OrleansGateway.Tests.Cli;

/// <summary><c>ogw demo rolling-restart</c> as a user runs it: its own cluster, its own verdict.</summary>
[Collection(PostgresCollection.Name)]
public sealed class DemoCommandTests(PostgresFixture postgres)
{
    [Fact]
    public async Task A_rolling_restart_with_a_kill_in_every_drain_loses_no_turn_and_says_so()
    {
        var home = Directory.CreateTempSubdirectory("ogw-demo-home-").FullName;
        var environment = new Dictionary<string, string>
        {
            ["ConnectionStrings__Postgres"] = await postgres.CreateDatabaseAsync("demo"),
            ["Orleans__ClusterId"] = $"demo-{Guid.NewGuid():N}"[..12],
            ["OGW_HOME"] = home,
        };
        var (http, silo, gateway) = (FreePorts.Run(2), FreePorts.Run(2), FreePorts.Run(2));

        await using var demo = OgwProcess.Start(environment, "demo", "rolling-restart", "--silos", "2", "--sessions", "6", "--steps", "8", "--step-ms", "300",
            "--kill-during-drain", "--http-port", $"{http}", "--silo-port", $"{silo}", "--gateway-port", $"{gateway}");

        // A generous bound for a loaded machine; a healthy run takes about a minute.
        Assert.True(await demo.WaitForExitAsync(TimeSpan.FromSeconds(240)), $"the demo did not finish:\n{demo.Output}\n{SiloLogs(home)}");
        var output = demo.Output;
        Assert.True(demo.ExitCode == 0, $"exit code {demo.ExitCode}:\n{output}\n{SiloLogs(home)}");
        Assert.Equal(6, Row(output, "sessions"));
        Assert.Equal(0, Row(output, "lost"));
        Assert.Equal(0, Row(output, "quarantined"));
        Assert.Equal(0, Row(output, "duplicate executions"));
        Assert.True(Row(output, "interrupted") >= 1, $"no turn was interrupted, so nothing was shown:\n{output}");
        Assert.True(Row(output, "premarked") >= 1, $"no session was premarked:\n{output}");
        Directory.Delete(home, recursive: true);
    }

    [Theory]
    [InlineData("a rolling restart needs --silos 2 or more", "--silos", "1")]
    [InlineData("--sessions must be between 1 and", "--sessions", "0")]
    [InlineData("--steps must be between 1 and", "--steps", "0")]
    [InlineData("--drain-timeout 'soon' is not a duration", "--drain-timeout", "soon")]
    [InlineData("--kill-after needs --kill-during-drain", "--kill-after", "2s")]
    public async Task A_bad_option_fails_with_one_line_before_anything_starts(string expected, params string[] options)
    {
        // No database: a bad option must be refused before the command tries to reach one.
        var environment = new Dictionary<string, string> { ["ConnectionStrings__Postgres"] = $"Host=127.0.0.1;Port={PostgresFixture.FreeTcpPort()};Username=postgres;Timeout=3" };

        var (exitCode, output) = await OgwProcess.RunAsync(environment, ["demo", "rolling-restart", .. options]);

        Assert.NotEqual(0, exitCode);
        var line = Assert.Single(output.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith($"ogw: {expected}", line);
    }

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
