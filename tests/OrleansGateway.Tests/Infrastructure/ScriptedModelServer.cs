using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace OrleansGateway.Tests.Infrastructure;

/// <summary>A request the model server got: the user text it answered, the whole body, and the Authorization header.</summary>
public sealed record ModelRequest(string UserText, JsonNode Body, string? Authorization)
{
    public bool Stream => Body["stream"]?.GetValue<bool>() == true;
}

/// <summary>
/// An OpenAI-compatible chat completions server (<c>POST /v1/chat/completions</c>, plain and streamed) that answers from
/// <see cref="ModelScript"/> and records every request. Point <c>Gateway:Agent:OpenAI:Endpoint</c> at <see cref="Endpoint"/>.
/// </summary>
public sealed class ScriptedModelServer : IAsyncDisposable
{
    private readonly ConcurrentQueue<ModelRequest> _requests = new();
    private LoopbackServer? _server;

    /// <summary>The pause between streamed chunks of <c>stream:&lt;n&gt;</c> without a pause of its own.</summary>
    public TimeSpan ChunkDelay { get; init; } = TimeSpan.FromMilliseconds(20);

    /// <summary>The base URL including <c>/v1</c>.</summary>
    public string Endpoint => $"{_server!.BaseUrl}/v1";

    public IReadOnlyList<ModelRequest> Requests => [.. _requests];

    /// <summary>The first request of a user text that is held waits until it is released.</summary>
    public FirstRequestHolds Holds { get; } = new();

    public IReadOnlyList<ModelRequest> RequestsFor(string userText) => _requests.Where(r => r.UserText == userText).ToList();

    public static async Task<ScriptedModelServer> StartAsync(TimeSpan? chunkDelay = null)
    {
        var server = new ScriptedModelServer { ChunkDelay = chunkDelay ?? TimeSpan.FromMilliseconds(20) };
        server._server = await LoopbackServer.StartAsync(app => app.MapPost("/v1/chat/completions", server.AnswerAsync));
        return server;
    }

    private async Task AnswerAsync(HttpContext context)
    {
        var body = await JsonNode.ParseAsync(context.Request.Body, cancellationToken: context.RequestAborted) ?? new JsonObject();
        var request = new ModelRequest(ModelScript.UserText(body), body, context.Request.Headers.Authorization);
        int attempt;
        lock (_requests)
        {
            attempt = _requests.Count(r => r.UserText == request.UserText);
            _requests.Enqueue(request);
        }

        await Holds.WaitAsync(request.UserText, attempt == 0, context.RequestAborted);
        var answer = ModelScript.Answer(body, attempt, ChunkDelay);
        await Task.Delay(answer.Delay, context.RequestAborted);
        var model = body["model"]?.GetValue<string>() ?? "scripted";
        await ChatCompletionWriter.WriteAsync(context.Response, answer, model, request.Stream, context.RequestAborted);
    }

    public ValueTask DisposeAsync()
    {
        Holds.ReleaseAll();
        return _server?.DisposeAsync() ?? ValueTask.CompletedTask;
    }
}
