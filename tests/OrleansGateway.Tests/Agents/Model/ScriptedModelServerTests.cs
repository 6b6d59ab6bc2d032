using Microsoft.Extensions.AI;
using Microsoft.Extensions.Logging.Abstractions;
using OrleansGateway.Agents.Model;
using OrleansGateway.Tests.Infrastructure;

namespace OrleansGateway.Tests.Agents.Model;

/// <summary>
/// The test model server's plain (not streamed) answers, which the agent never asks for but an OpenAI client may: read
/// by the same client library the agent uses.
/// </summary>
public sealed class ScriptedModelServerTests : IAsyncLifetime
{
    private ScriptedModelServer _server = null!;
    private IChatClient _client = null!;

    public async Task InitializeAsync()
    {
        _server = await ScriptedModelServer.StartAsync();
        _client = OpenAIChatClients.Create(new OpenAIEndpointOptions { Endpoint = _server.Endpoint, Model = "m", MaxRetries = 0 }, NullLoggerFactory.Instance);
    }

    public async Task DisposeAsync()
    {
        _client.Dispose();
        await _server.DisposeAsync();
    }

    [Fact]
    public async Task A_plain_answer_is_a_whole_completion_with_usage()
    {
        var response = await _client.GetResponseAsync([new ChatMessage(ChatRole.User, "hello")]);

        Assert.Equal("echo: hello", response.Text);
        Assert.Equal(ChatCompletionWriter.PromptTokens, response.Usage?.InputTokenCount);
        Assert.False(Assert.Single(_server.Requests).Stream);
    }

    [Fact]
    public async Task A_plain_answer_asks_for_tools_then_answers_with_their_results()
    {
        List<ChatMessage> messages = [new(ChatRole.User, """tool:echo:{"x":1}|tool:other:{}""")];

        var first = await _client.GetResponseAsync(messages);
        var calls = first.Messages.SelectMany(m => m.Contents).OfType<FunctionCallContent>().ToList();
        messages.AddRange(first.Messages);
        messages.AddRange(calls.Select(call => new ChatMessage(ChatRole.Tool, [new FunctionResultContent(call.CallId, $"result of {call.Name}")])));
        var second = await _client.GetResponseAsync(messages);

        Assert.Equal([("call_1", "echo"), ("call_2", "other")], calls.Select(c => (c.CallId, c.Name)));
        Assert.Equal(1L, Convert.ToInt64(calls[0].Arguments!["x"]?.ToString()));
        Assert.Equal("done: result of echo | result of other", second.Text);
    }
}
