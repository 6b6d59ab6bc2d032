using System.Text.Json;
using OrleansGateway.Agents.Model;
using OrleansGateway.Tests.Infrastructure;

namespace OrleansGateway.Tests.Agents.Model;

/// <summary>Tools of a real MCP server (streamable HTTP), offered to the model and called with the idempotency key in <c>_meta</c>.</summary>
public sealed class McpToolTests(PostgresFixture postgres) : ModelAgentTests(postgres)
{
    [Fact]
    public async Task An_mcp_tool_is_offered_to_the_model_and_called_with_the_idempotency_key_in_meta()
    {
        await using var mcp = await RecordingMcpServer.StartAsync();
        var settings = Harness.Settings();
        settings["Gateway:Agent:Mcp:search:Url"] = mcp.Url;
        const string text = """tool:lookup:{"query":"orleans"}""";

        var run = await TurnDriver.RunAsync(Harness.Agent(settings), "s1", "t1", text);

        Assert.Equal("done: found orleans", run.Reply);
        Assert.Equal(new McpToolRequest("orleans", "s1/t1/0/call_1"), Assert.Single(mcp.Calls));
        var offered = Harness.Model.RequestsFor(text)[0].Body["tools"]!.AsArray().Select(t => t!["function"]!["name"]!.GetValue<string>());
        Assert.Equal(["broken", "echo", "explode", "lookup", "slow"], offered.Order());
    }

    [Fact]
    public async Task Arguments_that_fail_the_mcp_tools_schema_are_an_error_for_the_model_and_nothing_is_called()
    {
        await using var mcp = await RecordingMcpServer.StartAsync();
        var settings = Harness.Settings();
        settings["Gateway:Agent:Mcp:search:Url"] = mcp.Url;

        var run = await TurnDriver.RunAsync(Harness.Agent(settings), "s1", "t1", """tool:lookup:{"query":7}""");

        var tool = JsonSerializer.Deserialize<ToolStep>(run.Journal[1].Data, JsonSerializerOptions.Web)!;
        Assert.True(tool.IsError);
        Assert.StartsWith("the arguments of tool lookup do not match its schema", tool.Result);
        Assert.Empty(mcp.Calls);
    }

    [Fact]
    public async Task A_failing_mcp_tool_is_an_error_for_the_model_and_the_turn_goes_on()
    {
        await using var mcp = await RecordingMcpServer.StartAsync();
        var settings = Harness.Settings();
        settings["Gateway:Agent:Mcp:search:Url"] = mcp.Url;

        var run = await TurnDriver.RunAsync(Harness.Agent(settings), "s1", "t1", "tool:explode:{}");

        var tool = JsonSerializer.Deserialize<ToolStep>(run.Journal[1].Data, JsonSerializerOptions.Web)!;
        Assert.True(tool.IsError);
        Assert.Contains("exploded on purpose", tool.Result);
        Assert.Equal($"done: {tool.Result}", run.Reply);
    }

    [Fact]
    public async Task The_tools_of_an_mcp_server_that_cannot_be_reached_are_not_offered_and_the_turn_goes_on()
    {
        var settings = Harness.Settings();
        settings["Gateway:Agent:Mcp:search:Url"] = $"http://127.0.0.1:{PostgresFixture.FreeTcpPort()}/mcp";

        var run = await TurnDriver.RunAsync(Harness.Agent(settings), "s1", "t1", """tool:lookup:{"query":"x"}""");

        var tool = JsonSerializer.Deserialize<ToolStep>(run.Journal[1].Data, JsonSerializerOptions.Web)!;
        Assert.Equal("there is no tool named 'lookup' (tools: broken, echo, slow)", tool.Result);
        Assert.Contains(Harness.Logs.Lines, line => line.Contains("MCP server search cannot be reached", StringComparison.Ordinal));
    }

    [Fact]
    public async Task An_mcp_server_started_as_a_command_serves_its_tools_over_stdio()
    {
        var settings = Harness.Settings();
        settings["Gateway:Agent:Mcp:local:Command"] = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } dotnet ? dotnet : "dotnet";
        settings["Gateway:Agent:Mcp:local:Arguments:0"] = Path.Combine(AppContext.BaseDirectory, "OrleansGateway.TestMcpServer.dll");

        var run = await TurnDriver.RunAsync(Harness.Agent(settings), "s1", "t1", """tool:shout:{"text":"hi"}""");

        Assert.Equal("done: HI (key s1/t1/0/call_1)", run.Reply);
    }
}
