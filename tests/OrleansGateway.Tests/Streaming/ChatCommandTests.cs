using OrleansGateway.Cli.Commands;
using OrleansGateway.Tests.Infrastructure;

namespace OrleansGateway.Tests.Streaming;

/// <summary><c>ogw chat</c> as a script runs it: lines piped in, replies printed, the exit code at the end of input.</summary>
[Collection(PostgresCollection.Name)]
public sealed class ChatCommandTests(PostgresFixture postgres)
{
    [Fact]
    public async Task Piped_lines_are_posted_one_at_a_time_and_their_replies_printed_then_ogw_exits_0()
    {
        await using var cluster = await HttpSiloCluster.StartAsync(await postgres.CreateMigratedDatabaseAsync("chat"), silos: 1);
        var unreachable = $"http://127.0.0.1:{PostgresFixture.FreeTcpPort()}";
        var silo = cluster.Addresses[0].ToString();

        // A new session, then the same one again (its stream opened before the post), through a silo that is down first.
        var first = await OgwProcess.RunPipedAsync(NoEnvironment, "hello\nwork 2x100\n", ["chat", "chat-1", "--silo", unreachable, "--silo", silo]);
        var again = await OgwProcess.RunPipedAsync(NoEnvironment, "once more\n", ["chat", "chat-1", "--silo", silo]);

        Assert.True(first.ExitCode == 0, first.Output);
        // The last step's checkpoint is the turn's end: its reply says it.
        Assert.Equal(["hello", "  · t2 step 1/2", "done 2 steps"], Lines(first.Output));
        Assert.True(again.ExitCode == 0, again.Output);
        Assert.Equal(["once more"], Lines(again.Output));
    }

    [Fact]
    public async Task A_bad_session_id_or_no_silo_to_reach_fails_with_one_line()
    {
        var unreachable = $"http://127.0.0.1:{PostgresFixture.FreeTcpPort()}";

        var badId = await OgwProcess.RunPipedAsync(NoEnvironment, "hello\n", ["chat", "not valid!", "--silo", unreachable]);
        var noSilo = await OgwProcess.RunPipedAsync(NoEnvironment, "hello\n", ["chat", "s1", "--silo", unreachable]);
        var badUrl = await OgwProcess.RunPipedAsync(NoEnvironment, "hello\n", ["chat", "s1", "--silo", "ftp://x"]);

        Assert.Equal(ExitCodes.Usage, badId.ExitCode);
        Assert.StartsWith("ogw: 'not valid!' is not a session id", Assert.Single(Lines(badId.Output)));
        Assert.Equal(ExitCodes.Unavailable, noSilo.ExitCode);
        Assert.StartsWith($"ogw: no silo answered for session s1: {unreachable}/: ", Assert.Single(Lines(noSilo.Output)));
        Assert.Equal(ExitCodes.Usage, badUrl.ExitCode);
        Assert.Equal("ogw: --silo: 'ftp://x' is not an http:// or https:// URL (a silo's HTTP API, e.g. http://127.0.0.1:8081/)", Assert.Single(Lines(badUrl.Output)));
    }

    private static readonly Dictionary<string, string> NoEnvironment = [];

    private static List<string> Lines(string output) => [.. output.Split('\n', StringSplitOptions.RemoveEmptyEntries)];
}
