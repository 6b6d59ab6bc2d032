using System.Collections.Concurrent;
using System.Text.Json;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OrleansGateway.Agents.Model;

namespace OrleansGateway.Agents.Tools;

/// <summary>
/// The tools of the settings: HTTP tools first, then the tools of each MCP server in the order of the settings; a name taken
/// already is skipped (and logged), so the model never sees two tools of one name.
/// </summary>
public sealed partial class ToolCatalog : IAsyncDisposable
{
    private readonly IReadOnlyList<IAgentTool> _httpTools;
    private readonly IReadOnlyList<McpToolServer> _mcpServers;
    private readonly ILogger _log;

    // Tools already warned about, so that a clash is logged once rather than at every model call.
    private readonly ConcurrentDictionary<string, bool> _shadowed = new(StringComparer.Ordinal);

    public ToolCatalog(IOptions<AgentOptions> options, IHttpClientFactory http, ILoggerFactory loggers)
    {
        var settings = options.Value;
        _httpTools = settings.Tools.Select(tool => (IAgentTool)new HttpTool(tool.Key, tool.Value, http.CreateClient(HttpClientName))).ToList();
        _mcpServers = settings.Mcp.Select(server => new McpToolServer(server.Key, server.Value, loggers)).ToList();
        _log = loggers.CreateLogger<ToolCatalog>();
    }

    /// <summary>The <see cref="IHttpClientFactory"/> client HTTP tools are called with (timeouts are per tool, not the client's).</summary>
    public const string HttpClientName = "ogw-agent-tools";

    public async Task<IReadOnlyDictionary<string, IAgentTool>> ToolsAsync(CancellationToken cancellationToken)
    {
        var tools = new Dictionary<string, IAgentTool>(StringComparer.Ordinal);
        foreach (var tool in _httpTools)
        {
            tools.TryAdd(tool.Name, tool);
        }

        foreach (var server in _mcpServers)
        {
            foreach (var tool in await server.ToolsAsync(cancellationToken))
            {
                if (!tools.TryAdd(tool.Name, tool) && _shadowed.TryAdd($"{server.Name}/{tool.Name}", true))
                {
                    Log.NameTaken(_log, tool.Name, server.Name);
                }
            }
        }

        return tools;
    }

    /// <summary>What the model is offered.</summary>
    public async Task<IList<AITool>> DeclarationsAsync(CancellationToken cancellationToken) =>
        (await ToolsAsync(cancellationToken)).Values.Select(tool => (AITool)tool.Declaration).ToList();

    /// <summary>
    /// Runs the model's call of <paramref name="name"/>. An unknown tool, arguments that are not a JSON object or fail the
    /// tool's schema, and every failure of the tool itself come back as an error outcome for the model to read: the model can
    /// correct itself, and the turn goes on. Only cancellation throws.
    /// </summary>
    public async Task<ToolOutcome> RunAsync(string name, string argumentsJson, string idempotencyKey, CancellationToken cancellationToken)
    {
        var tools = await ToolsAsync(cancellationToken);
        if (!tools.TryGetValue(name, out var tool))
        {
            var known = tools.Count == 0 ? "none" : string.Join(", ", tools.Keys.Order(StringComparer.Ordinal));
            return ToolOutcome.Error($"there is no tool named '{name}' (tools: {known})");
        }

        JsonElement arguments;
        try
        {
            using var document = JsonDocument.Parse(string.IsNullOrWhiteSpace(argumentsJson) ? "{}" : argumentsJson);
            arguments = document.RootElement.Clone();
        }
        catch (JsonException exception)
        {
            return ToolOutcome.Error($"the arguments of tool {name} are not JSON: {exception.Message}");
        }

        if (tool.Schema.Problem(arguments) is { } problem)
        {
            return ToolOutcome.Error($"the arguments of tool {name} do not match its schema: {problem}");
        }

        return await tool.RunAsync(arguments, idempotencyKey, cancellationToken);
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var server in _mcpServers)
        {
            await server.DisposeAsync();
        }
    }

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Warning, "Tool {Tool} of MCP server {Server} is not offered: another tool has its name")]
        public static partial void NameTaken(ILogger logger, string tool, string server);
    }
}
