namespace OrleansGateway.Agents.Model;

/// <summary>
/// The model agent's part of the <c>Gateway:Agent</c> section (the section also holds <see cref="ScriptedAgentOptions"/>).
/// </summary>
public sealed class AgentOptions
{
    public const string Section = "Gateway:Agent";

    public const string ScriptedProvider = "scripted";

    public const string OpenAIProvider = "openai";

    /// <summary>Which agent runs turns: <c>scripted</c> (the built-in deterministic one) or <c>openai</c>.</summary>
    public string Provider { get; set; } = ScriptedProvider;

    /// <summary>The system message of every model call; none when empty.</summary>
    public string? SystemPrompt { get; set; }

    /// <summary>How many earlier turns of the session (user text and reply) the model sees.</summary>
    public int HistoryTurns { get; set; } = 20;

    /// <summary>How many journaled steps (model calls and tool calls) a turn may take before it fails.</summary>
    public int MaxSteps { get; set; } = 16;

    public OpenAIEndpointOptions OpenAI { get; set; } = new();

    /// <summary>HTTP tools by name.</summary>
    public Dictionary<string, HttpToolOptions> Tools { get; set; } = new(StringComparer.Ordinal);

    /// <summary>MCP servers by name; their tools are offered to the model.</summary>
    public Dictionary<string, McpServerOptions> Mcp { get; set; } = new(StringComparer.Ordinal);

    public bool UsesModel => string.Equals(Provider, OpenAIProvider, StringComparison.OrdinalIgnoreCase);
}

/// <summary>An OpenAI-compatible chat completions server: OpenAI, Azure OpenAI, Ollama, vLLM, llama.cpp.</summary>
public sealed class OpenAIEndpointOptions
{
    /// <summary>The base URL including <c>/v1</c>, e.g. <c>http://localhost:11434/v1</c>.</summary>
    public string? Endpoint { get; set; }

    public string? Model { get; set; }

    /// <summary>From the environment or a secret store; may be empty for local servers. Never logged.</summary>
    public string? ApiKey { get; set; }

    /// <summary>How long one attempt may wait for the server (for a stream: between two chunks).</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(100);

    /// <summary>Retries of a 408, 429 or 5xx answer or a network failure, with exponential backoff (Retry-After honoured).</summary>
    public int MaxRetries { get; set; } = 3;
}

public sealed class HttpToolOptions
{
    /// <summary>Where the tool's arguments are POSTed as JSON.</summary>
    public string? Url { get; set; }

    public string? Description { get; set; }

    /// <summary>The JSON schema of the arguments, as a string; an object without declared properties when empty.</summary>
    public string? Parameters { get; set; }

    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(30);
}

/// <summary>An MCP server: a command started over stdio, or a streamable HTTP (or SSE) URL.</summary>
public sealed class McpServerOptions
{
    public string? Command { get; set; }

    public List<string> Arguments { get; set; } = [];

    public string? Url { get; set; }

    /// <summary>How long one tool call may take, and how long the server may take to start and list its tools.</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(30);
}
