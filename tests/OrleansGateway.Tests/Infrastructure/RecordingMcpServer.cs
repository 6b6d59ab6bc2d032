using System.Collections.Concurrent;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

namespace OrleansGateway.Tests.Infrastructure;

/// <summary>A call of the MCP server's <c>lookup</c> tool: its query and the <c>idempotencyKey</c> of the request's <c>_meta</c>.</summary>
public sealed record McpToolRequest(string Query, string? IdempotencyKey);

/// <summary>
/// A real MCP server (the official SDK's streamable HTTP transport, stateless) with two tools: <c>lookup</c>, which takes a
/// string <c>query</c>, answers <c>found {query}</c> and records each call, and <c>explode</c>, which always fails.
/// </summary>
public sealed class RecordingMcpServer : IAsyncDisposable
{
    private readonly ConcurrentQueue<McpToolRequest> _calls = new();
    private LoopbackServer? _server;

    public IReadOnlyList<McpToolRequest> Calls => [.. _calls];

    public string Url => $"{_server!.BaseUrl}/mcp";

    public static async Task<RecordingMcpServer> StartAsync()
    {
        var server = new RecordingMcpServer();
        var lookup = McpServerTool.Create(
            (RequestContext<CallToolRequestParams> context, string query) => server.Lookup(context, query),
            new McpServerToolCreateOptions { Name = "lookup", Description = "Looks a query up" });
        var explode = McpServerTool.Create(
            string () => throw new McpException("exploded on purpose"),
            new McpServerToolCreateOptions { Name = "explode", Description = "Always fails" });
        server._server = await LoopbackServer.StartAsync(
            app => app.MapMcp("/mcp"),
            services => services.AddMcpServer().WithHttpTransport(options => options.Stateless = true).WithTools([lookup, explode]));
        return server;
    }

    private string Lookup(RequestContext<CallToolRequestParams> context, string query)
    {
        _calls.Enqueue(new McpToolRequest(query, context.Params?.Meta?["idempotencyKey"]?.GetValue<string>()));
        return $"found {query}";
    }

    public ValueTask DisposeAsync() => _server?.DisposeAsync() ?? ValueTask.CompletedTask;
}
