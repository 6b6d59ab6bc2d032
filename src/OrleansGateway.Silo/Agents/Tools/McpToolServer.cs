using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Logging;
using ModelContextProtocol;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;
using OrleansGateway.Agents.Model;

namespace OrleansGateway.Agents.Tools;

/// <summary>
/// One MCP server of the settings. It is connected to, and its tools listed, at the first model call that needs them (a silo
/// that never runs a model turn never starts the server); the list is kept until a call finds the connection broken.
/// </summary>
public sealed partial class McpToolServer(string name, McpServerOptions options, ILoggerFactory loggers) : IAsyncDisposable
{
    /// <summary>The key of the request's <c>_meta</c> that carries the idempotency key of a tool call.</summary>
    public const string IdempotencyMetaKey = "idempotencyKey";

    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly ILogger _log = loggers.CreateLogger<McpToolServer>();
    private McpClient? _client;
    // Read without the gate once set: a step that finds the list needs no lock.
    private volatile IReadOnlyList<IAgentTool>? _tools;

    public string Name { get; } = name;

    /// <summary>The server's tools; empty (and logged) when it cannot be reached, so that a broken server costs its tools only.</summary>
    public async Task<IReadOnlyList<IAgentTool>> ToolsAsync(CancellationToken cancellationToken)
    {
        if (_tools is { } known)
        {
            return known;
        }

        await _gate.WaitAsync(cancellationToken);
        try
        {
            if (_tools is null)
            {
                // A server that hangs while starting must not hang the model step that waits for its tools.
                using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                deadline.CancelAfter(options.Timeout);
                _client = await McpClient.CreateAsync(Transport(), loggerFactory: loggers, cancellationToken: deadline.Token);
                var listed = await _client.ListToolsAsync(cancellationToken: deadline.Token);
                _tools = listed.Select(tool => (IAgentTool)new Tool(this, tool)).ToList();
                Log.Listed(_log, Name, _tools.Count);
            }

            return _tools;
        }
        catch (Exception exception) when (exception is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            Log.Unreachable(_log, Name, exception.Message);
            await ForgetAsync();
            return [];
        }
        finally
        {
            _gate.Release();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await ForgetAsync();
        _gate.Dispose();
    }

    private async Task ResetAsync()
    {
        await _gate.WaitAsync(CancellationToken.None);
        try
        {
            await ForgetAsync();
        }
        finally
        {
            _gate.Release();
        }
    }

    private async Task ForgetAsync()
    {
        var client = _client;
        (_client, _tools) = (null, null);
        if (client is not null)
        {
            await client.DisposeAsync();
        }
    }

    private IClientTransport Transport() => options.Url is { Length: > 0 } url
        ? new HttpClientTransport(new HttpClientTransportOptions { Endpoint = new Uri(url), Name = Name }, loggers)
        : new StdioClientTransport(new StdioClientTransportOptions { Command = options.Command!, Arguments = options.Arguments, Name = Name }, loggers);

    private async Task<ToolOutcome> CallAsync(McpClientTool tool, JsonElement arguments, string idempotencyKey, CancellationToken cancellationToken)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(options.Timeout);
        // MCP has no idempotency header; a request's _meta is where the protocol lets a client add such data.
        var request = new RequestOptions { Meta = new JsonObject { [IdempotencyMetaKey] = idempotencyKey } };
        try
        {
            var values = arguments.Deserialize<Dictionary<string, object?>>() ?? [];
            var result = await tool.CallAsync(values, options: request, cancellationToken: deadline.Token);
            var text = TextOf(result);
            return new ToolOutcome(text, result.IsError == true);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return ToolOutcome.Error($"tool {tool.Name} of MCP server {Name} did not answer within {options.Timeout.TotalSeconds:0.###} s");
        }
        catch (Exception exception) when (exception is not OperationCanceledException)
        {
            if (exception is not McpProtocolException)
            {
                // Not an answer of the server: the connection may be gone; the next model call connects again.
                await ResetAsync();
            }

            return ToolOutcome.Error($"tool {tool.Name} of MCP server {Name} failed: {exception.Message}");
        }
    }

    private static string TextOf(CallToolResult result)
    {
        var texts = result.Content.OfType<TextContentBlock>().Select(block => block.Text).ToList();
        if (texts.Count > 0)
        {
            return string.Join("\n", texts);
        }

        return result.StructuredContent is { } structured ? structured.GetRawText() : JsonSerializer.Serialize(result.Content);
    }

    private sealed class Tool(McpToolServer server, McpClientTool tool) : IAgentTool
    {
        public string Name => tool.Name;

        public AIFunctionDeclaration Declaration { get; } = AIFunctionFactory.CreateDeclaration(tool.Name, tool.Description, tool.JsonSchema);

        public ArgumentSchema Schema { get; } = ArgumentSchema.From(tool.JsonSchema);

        public Task<ToolOutcome> RunAsync(JsonElement arguments, string idempotencyKey, CancellationToken cancellationToken) =>
            server.CallAsync(tool, arguments, idempotencyKey, cancellationToken);
    }

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Information, "MCP server {Server} offers {Count} tools")]
        public static partial void Listed(ILogger logger, string server, int count);

        [LoggerMessage(2, LogLevel.Warning, "MCP server {Server} cannot be reached, its tools are not offered: {Reason}")]
        public static partial void Unreachable(ILogger logger, string server, string reason);
    }
}
