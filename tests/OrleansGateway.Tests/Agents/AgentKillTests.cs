using System.Text.Json;
using Npgsql;
using OrleansGateway.Agents;
using OrleansGateway.LocalCluster;
using OrleansGateway.Storage;
using OrleansGateway.Tests.Infrastructure;
using static OrleansGateway.Tests.Infrastructure.ClusterSessions;

namespace OrleansGateway.Tests.Agents;

/// <summary>
/// One SIGKILL of a silo running four model-backed turns, each stopped at another point of its journal: after the model
/// asked for a tool and before the tool ran; while the tool runs; after the tool answered and before its journal entry;
/// in the middle of a streamed answer. The survivor resumes them all. Nothing in the product knows about the test: the
/// scripted model and tool servers hold requests, and the database holds the writes (a state row lock, an uncommitted
/// journal row with the key of the entry to come).
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class AgentKillTests(PostgresFixture postgres)
{
    private const string BeforeTool = "before-tool";
    private const string DuringTool = "during-tool";
    private const string AfterTool = "after-tool";
    private const string MidStream = "mid-stream";

    private static readonly Dictionary<string, string> Texts = new()
    {
        [BeforeTool] = """tool:book:{"seat":1}""",
        [DuringTool] = """tool:charge:{"amount":5}""",
        [AfterTool] = """tool:mail:{"to":"ops"}""",
        [MidStream] = "stream:12:250",
    };

    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task A_silo_killed_at_every_point_of_a_model_turn_makes_no_journaled_call_again()
    {
        await using var model = await ScriptedModelServer.StartAsync();
        await using var tools = await RecordingToolServer.StartAsync();
        await using var cluster = new SiloProcessCluster(await postgres.CreateMigratedDatabaseAsync("agent_kill"));
        var settings = Settings(
            ("Gateway__Agent__Provider", "openai"), ("Gateway__Agent__OpenAI__Endpoint", model.Endpoint), ("Gateway__Agent__OpenAI__Model", "scripted"),
            ("Gateway__Agent__Tools__book__Url", tools.Url("book")), ("Gateway__Agent__Tools__charge__Url", tools.Url("charge")),
            ("Gateway__Agent__Tools__mail__Url", tools.Url("mail")), ("Gateway__Resume__SweepInterval", "00:00:00.500"));
        var doomed = await cluster.StartSiloAsync("doomed", settings);
        var survivor = await cluster.StartSiloAsync("survivor", settings);
        model.Holds.Hold(Texts[BeforeTool]);
        tools.Holds.Hold("charge");
        tools.Holds.Hold("mail");
        await using var live = await LiveDeltas.ListenAsync(cluster.ConnectionString, [.. Texts.Keys]);

        foreach (var (session, text) in Texts)
        {
            await PostAllAsync([session], _ => doomed, text);
        }

        // Before the tool: the model's answer is journaled, and the state write after it waits for the row lock.
        await Eventually.UntilAsync(() => Task.FromResult(model.RequestsFor(Texts[BeforeTool]).Count == 1), Timeout, () => "the model was not asked");
        await using var beforeTool = await SessionStateRows.LockAsync(cluster.ConnectionString, BeforeTool);
        model.Holds.Release(Texts[BeforeTool]);
        await beforeTool.WaitForBlockedWriteAsync();

        // During the tool: the call arrived, and is held.
        await Eventually.UntilAsync(() => Task.FromResult(tools.Calls.Any(c => c.Tool == "charge")), Timeout, () => "charge was not called");

        // After the tool: its answer is sent while an uncommitted row with its journal entry's key makes the entry wait.
        await Eventually.UntilAsync(() => Task.FromResult(tools.Calls.Any(c => c.Tool == "mail")), Timeout, () => "mail was not called");
        await using var afterTool = await SessionStateRows.HoldJournalStepAsync(cluster.ConnectionString, AfterTool, turnNumber: 1, step: 1);
        tools.Holds.Release("mail");
        await afterTool.WaitForBlockedWriteAsync();

        // Mid-stream: text of the answer has gone out live.
        await live.WaitForDeltaAsync(MidStream, Timeout);

        Assert.Equal([JournalKinds.Model], await JournalKindsAsync(cluster, BeforeTool));
        Assert.DoesNotContain(tools.Calls, c => c.Tool == "book");
        doomed.Kill();
        Assert.True(await doomed.WaitForExitAsync(TimeSpan.FromSeconds(10)));
        Assert.Equal(1, await beforeTool.EndBlockedWritesAsync());
        Assert.Equal(1, await afterTool.EndBlockedWritesAsync());
        await beforeTool.DisposeAsync();
        await afterTool.DisposeAsync();
        tools.Holds.Release("charge");

        var sessions = await WaitUntilCompletedAsync(cluster, [.. Texts.Keys], survivor);
        string Reply(string session) => sessions[session].GetProperty("turns")[0].GetProperty("reply").GetString()!;
        Assert.Equal("done: book got {\"seat\":1}", Reply(BeforeTool));
        Assert.Equal("done: charge got {\"amount\":5}", Reply(DuringTool));
        Assert.Equal("done: mail got {\"to\":\"ops\"}", Reply(AfterTool));
        Assert.Equal(string.Concat(Enumerable.Range(1, 12).Select(i => $"w{i} ")).Trim(), Reply(MidStream).Trim());

        // Every journaled model call was made once: the first call of each tool turn. The streamed answer, never journaled,
        // was asked for again.
        foreach (var session in new[] { BeforeTool, DuringTool, AfterTool })
        {
            Assert.Single(model.RequestsFor(Texts[session]), r => !r.Body["messages"]!.AsArray().Any(m => m?["role"]?.GetValue<string>() == "tool"));
            Assert.Equal([JournalKinds.Model, JournalKinds.Tool], await JournalKindsAsync(cluster, session));
        }

        Assert.Equal(2, model.RequestsFor(Texts[MidStream]).Count);

        // Every tool call reached its tool with one idempotency key: once when it had not run, twice when it ran or answered.
        var calls = tools.Calls.ToLookup(c => c.Tool);
        Assert.Single(calls["book"]);
        Assert.Equal(2, calls["charge"].Count());
        Assert.Equal(2, calls["mail"].Count());
        Assert.All(calls, tool => Assert.Single(tool.Select(c => c.IdempotencyKey).Distinct()));
        Assert.Equal(3, calls.SelectMany(tool => tool).Select(c => c.IdempotencyKey).Distinct().Count());
        Assert.All(sessions.Values, s => Assert.Equal(2, s.GetProperty("turns")[0].GetProperty("executions").GetInt32()));

        // What a client of the stream reads afterwards: the stored events, the kill's interruption told by the resume.
        string[] toolTurn = [TurnEventKinds.Accepted, TurnEventKinds.ToolCall, TurnEventKinds.Resumed, TurnEventKinds.ToolResult, TurnEventKinds.Completed];
        Assert.Equal(toolTurn, await StreamKindsAsync(cluster, BeforeTool));
        Assert.Equal(toolTurn, await StreamKindsAsync(cluster, DuringTool));
        Assert.Equal(toolTurn, await StreamKindsAsync(cluster, AfterTool));
        Assert.Equal([TurnEventKinds.Accepted, TurnEventKinds.Resumed, TurnEventKinds.Completed], await StreamKindsAsync(cluster, MidStream));
    }

    private static async Task<IReadOnlyList<string>> StreamKindsAsync(SiloProcessCluster cluster, string session)
    {
        await using var dataSource = NpgsqlDataSource.Create(cluster.ConnectionString);
        return [.. (await new TurnEvents(dataSource).ReadAfterAsync(session, 0, 100)).Select(e => e.Kind)];
    }

    private static async Task<IReadOnlyList<string>> JournalKindsAsync(SiloProcessCluster cluster, string session)
    {
        await using var dataSource = NpgsqlDataSource.Create(cluster.ConnectionString);
        return [.. (await new TurnJournal(dataSource).ReadAsync(session, 1)).Select(entry => entry.Kind)];
    }
}
