using System.Text.RegularExpressions;
using OrleansGateway.Cli.Commands;
using OrleansGateway.Tests.Infrastructure;

namespace OrleansGateway.Tests.Cli;

// What a script relies on: the token from a file, exit codes that tell a bad command line from a refusal and from a
// server that is not there, plain rows in a pipe, and a silo filter that says when it names no silo.
public sealed partial class OperatorCommandTests
{
    [Fact]
    public async Task The_token_can_come_from_a_file_named_by_option_or_variable_and_an_empty_one_is_a_usage_error()
    {
        var folder = Directory.CreateTempSubdirectory("ogw-token-").FullName;
        var (token, empty) = (Path.Combine(folder, "token"), Path.Combine(folder, "empty"));
        // As `echo $TOKEN > token` writes it: with its newline.
        await File.WriteAllTextAsync(token, DashboardHarness.OperatorToken + "\n");
        await File.WriteAllTextAsync(empty, "\n");
        var noToken = cluster.Environment(token: "");

        var byOption = await OgwProcess.RunAsync(noToken, "sessions", "--token-file", token);
        var byVariable = await OgwProcess.RunAsync(new Dictionary<string, string>(noToken) { ["OGW_OPERATOR_TOKEN_FILE"] = token }, "status");
        var emptyFile = await OgwProcess.RunAsync(noToken, "status", "--token-file", empty);

        Assert.True(byOption.ExitCode == 0, byOption.Output);
        Assert.Contains("All sessions: ", byOption.Output);
        Assert.True(byVariable.ExitCode == 0, byVariable.Output);
        Assert.Contains(cluster.MainAddress, byVariable.Output);
        Assert.Equal(ExitCodes.Usage, emptyFile.ExitCode);
        Assert.Equal($"ogw: --token-file '{empty}' is empty: it holds no operator token", OneLine(emptyFile.Output));
        Directory.Delete(folder, recursive: true);
    }

    [Fact]
    public async Task A_dashboard_that_says_it_is_unavailable_is_the_unavailable_exit_code_and_a_server_error_a_failure()
    {
        await using var server = await MisbehavingDashboard.StartAsync();

        var unavailable = await OgwProcess.RunAsync(cluster.Environment(url: server.Url), "status");
        var broken = await OgwProcess.RunAsync(cluster.Environment(url: server.Url), "sessions");

        Assert.Equal(ExitCodes.Unavailable, unavailable.ExitCode);
        Assert.StartsWith($"ogw: the dashboard at {server.Url} answered GET /api/operator/silos with 503 ServiceUnavailable", OneLine(unavailable.Output));
        Assert.Equal(ExitCodes.Failed, broken.ExitCode);
        Assert.StartsWith($"ogw: the dashboard at {server.Url} answered GET /api/operator/sessions with 500 InternalServerError", OneLine(broken.Output));
    }

    [Fact]
    public async Task A_silo_filter_that_names_no_silo_of_the_cluster_says_so_with_the_silos_it_knows()
    {
        const string nobody = "10.9.9.9:11111@7";

        var (exitCode, output) = await OgwProcess.RunAsync(cluster.Environment(), "sessions", "--silo", nobody);
        var (jsonExit, json) = await OgwProcess.RunAsync(cluster.Environment(), "sessions", "--silo", nobody, "--json");

        Assert.Equal(ExitCodes.Failed, exitCode);
        var line = OneLine(output);
        Assert.StartsWith($"ogw: --silo {nobody} is no silo of the cluster and owns no session; the cluster's silos: ", line);
        Assert.Contains($"{cluster.MainAddress} (Active)", line);
        Assert.Equal((ExitCodes.Failed, line), (jsonExit, OneLine(json)));
    }

    [Fact]
    public async Task Tables_in_a_pipe_are_plain_rows_one_a_line_for_db_status_too()
    {
        // OgwProcess reads ogw's output through a pipe, as `ogw ... | grep` does.
        var (statusExit, status) = await OgwProcess.RunAsync(cluster.Environment(), "status");
        var (sessionsExit, sessions) = await OgwProcess.RunAsync(cluster.Environment(), "sessions", "--silo", Seeded);
        var (dbExit, db) = await OgwProcess.RunAsync(cluster.Environment(), "db", "status", "-c", cluster.Dashboard.ConnectionString, "--cluster-id", cluster.ClusterId);

        foreach (var (exitCode, output) in new[] { (statusExit, status), (sessionsExit, sessions), (dbExit, db) })
        {
            Assert.True(exitCode == 0, output);
            Assert.DoesNotMatch(@"[│─┌┐└┘├┤┬┴┼╭╮╰╯|]", output);
        }

        Assert.Matches(new Regex($@"^{Regex.Escape(cluster.MainAddress)}  +\S+ +Active +{Regex.Escape(OperatorCluster.Version)} +[\d-]+ [\d:]+ +[\d:]+$", RegexOptions.Multiline), db);
        Assert.Matches(new Regex(@"^Silo +Name +Status +Version +Started \(UTC\) +Last alive \(UTC\)$", RegexOptions.Multiline), db);
        Assert.Matches(new Regex(@"^resume_pending +\d+$", RegexOptions.Multiline), db);
        Assert.Matches(new Regex($@"^{Regex.Escape(cluster.MainAddress)}  +\S+ +Active +no +\d+ +\d+ +{Regex.Escape(OperatorCluster.Version)}$", RegexOptions.Multiline), status);
        Assert.Matches(new Regex(@"^cli-stale-1 +resume_pending +restart_timeout +10\.0\.0\.9:11111@1 +0 +stale +[\d-]+ [\d:]+ +2h 0\dm +agent step threw$", RegexOptions.Multiline), sessions);
    }
}
