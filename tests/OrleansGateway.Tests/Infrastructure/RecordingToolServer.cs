using System.Collections.Concurrent;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace OrleansGateway.Tests.Infrastructure;

/// <summary>A call an HTTP tool got: which tool, the Idempotency-Key header, and the JSON body.</summary>
public sealed record ToolRequest(string Tool, string? IdempotencyKey, string Body);

/// <summary>How one tool of <see cref="RecordingToolServer"/> answers: after a pause, with a status.</summary>
public sealed record ToolBehavior(TimeSpan Delay, int Status = 200);

/// <summary>
/// HTTP tools for the model agent: <c>POST /tools/{name}</c> records the call and answers <c>{name} got {body}</c> (or the
/// status its <see cref="ToolBehavior"/> says). Kill tests check that each call was seen with one idempotency key.
/// </summary>
public sealed class RecordingToolServer : IAsyncDisposable
{
    private readonly ConcurrentQueue<ToolRequest> _calls = new();
    private readonly ConcurrentDictionary<string, ToolBehavior> _behaviors = new(StringComparer.Ordinal);
    private LoopbackServer? _server;

    public IReadOnlyList<ToolRequest> Calls => [.. _calls];

    /// <summary>How often each idempotency key was seen (a call without the header counts under the empty key).</summary>
    public IReadOnlyDictionary<string, int> CallsPerKey =>
        _calls.GroupBy(call => call.IdempotencyKey ?? "").ToDictionary(group => group.Key, group => group.Count());

    public string Url(string tool) => $"{_server!.BaseUrl}/tools/{tool}";

    /// <summary>The first call of a tool that is held is recorded, then waits until it is released: a tool that runs.</summary>
    public FirstRequestHolds Holds { get; } = new();

    /// <summary>Makes <paramref name="tool"/> slow or failing from now on.</summary>
    public void Behave(string tool, ToolBehavior behavior) => _behaviors[tool] = behavior;

    public static async Task<RecordingToolServer> StartAsync()
    {
        var server = new RecordingToolServer();
        server._server = await LoopbackServer.StartAsync(app => app.MapPost("/tools/{name}", server.AnswerAsync));
        return server;
    }

    private async Task AnswerAsync(HttpContext context, string name)
    {
        using var reader = new StreamReader(context.Request.Body);
        var body = await reader.ReadToEndAsync(context.RequestAborted);
        bool first;
        lock (_calls)
        {
            first = !_calls.Any(call => call.Tool == name);
            _calls.Enqueue(new ToolRequest(name, context.Request.Headers["Idempotency-Key"], body));
        }

        await Holds.WaitAsync(name, first, context.RequestAborted);
        var behavior = _behaviors.GetValueOrDefault(name) ?? new ToolBehavior(TimeSpan.Zero);
        await Task.Delay(behavior.Delay, context.RequestAborted);
        context.Response.StatusCode = behavior.Status;
        await context.Response.WriteAsync(behavior.Status == 200 ? $"{name} got {body}" : $"{name} broke", context.RequestAborted);
    }

    public ValueTask DisposeAsync()
    {
        Holds.ReleaseAll();
        return _server?.DisposeAsync() ?? ValueTask.CompletedTask;
    }
}
