using System.Text.Json;
using System.Text.RegularExpressions;
using Json.Schema;
using OrleansGateway.Agents.Tools;
using Microsoft.Extensions.Options;

namespace OrleansGateway.Agents.Model;

/// <summary>
/// Refuses a silo whose agent settings cannot work, at start rather than at the first turn. Every failure is one
/// line naming the setting; none repeats the API key.
/// </summary>
public sealed partial class AgentOptionsValidator : IValidateOptions<AgentOptions>
{
    private const string Prefix = AgentOptions.Section;

    public ValidateOptionsResult Validate(string? name, AgentOptions options)
    {
        var failures = new List<string>();
        if (!options.UsesModel && !string.Equals(options.Provider, AgentOptions.ScriptedProvider, StringComparison.OrdinalIgnoreCase))
        {
            failures.Add($"{Prefix}:Provider must be '{AgentOptions.ScriptedProvider}' or '{AgentOptions.OpenAIProvider}', not '{options.Provider}'");
        }

        if (options.UsesModel)
        {
            CheckModel(options, failures);
        }

        foreach (var (toolName, tool) in options.Tools)
        {
            CheckTool(toolName, tool, failures);
        }

        foreach (var (serverName, server) in options.Mcp)
        {
            CheckMcpServer(serverName, server, failures);
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    private static void CheckModel(AgentOptions options, List<string> failures)
    {
        var openAI = options.OpenAI;
        if (string.IsNullOrWhiteSpace(openAI.Endpoint))
        {
            failures.Add($"{Prefix}:OpenAI:Endpoint is required when {Prefix}:Provider is openai (e.g. http://localhost:11434/v1)");
        }
        else if (!IsHttpUrl(openAI.Endpoint))
        {
            failures.Add($"{Prefix}:OpenAI:Endpoint '{openAI.Endpoint}' is not an absolute http or https URL");
        }

        if (string.IsNullOrWhiteSpace(openAI.Model))
        {
            failures.Add($"{Prefix}:OpenAI:Model is required when {Prefix}:Provider is openai");
        }

        if (openAI.Timeout <= TimeSpan.Zero)
        {
            failures.Add($"{Prefix}:OpenAI:Timeout must be positive");
        }

        if (openAI.MaxRetries is < 0 or > 10)
        {
            failures.Add($"{Prefix}:OpenAI:MaxRetries must be between 0 and 10");
        }

        if (options.HistoryTurns < 0)
        {
            failures.Add($"{Prefix}:HistoryTurns must not be negative");
        }

        if (options.MaxSteps < 1)
        {
            failures.Add($"{Prefix}:MaxSteps must be at least 1");
        }
    }

    private static void CheckTool(string toolName, HttpToolOptions tool, List<string> failures)
    {
        var key = $"{Prefix}:Tools:{toolName}";
        if (!ToolNamePattern().IsMatch(toolName))
        {
            failures.Add($"{key}: a tool name has 1 to 64 letters, digits, '_' or '-'");
        }

        if (string.IsNullOrWhiteSpace(tool.Url) || !IsHttpUrl(tool.Url))
        {
            failures.Add($"{key}:Url '{tool.Url}' is not an absolute http or https URL");
        }

        if (tool.Timeout <= TimeSpan.Zero)
        {
            failures.Add($"{key}:Timeout must be positive");
        }

        if (!string.IsNullOrWhiteSpace(tool.Parameters) && SchemaProblem(tool.Parameters) is { } problem)
        {
            failures.Add($"{key}:Parameters is not a JSON schema: {problem}");
        }
    }

    private static void CheckMcpServer(string serverName, McpServerOptions server, List<string> failures)
    {
        var key = $"{Prefix}:Mcp:{serverName}";
        var hasCommand = !string.IsNullOrWhiteSpace(server.Command);
        var hasUrl = !string.IsNullOrWhiteSpace(server.Url);
        if (hasCommand == hasUrl)
        {
            failures.Add($"{key} needs either Command (stdio) or Url (HTTP), not {(hasUrl ? "both" : "neither")}");
        }
        else if (hasUrl && !IsHttpUrl(server.Url!))
        {
            failures.Add($"{key}:Url '{server.Url}' is not an absolute http or https URL");
        }

        if (server.Timeout <= TimeSpan.Zero)
        {
            failures.Add($"{key}:Timeout must be positive");
        }
    }

    private static bool IsHttpUrl(string text) =>
        Uri.TryCreate(text, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps);

    private static string? SchemaProblem(string schemaText)
    {
        try
        {
            ArgumentSchema.Parse(schemaText);
            return null;
        }
        catch (Exception exception) when (exception is JsonException or ArgumentException or InvalidOperationException or JsonSchemaException)
        {
            return exception.Message.ReplaceLineEndings(" ");
        }
    }

    [GeneratedRegex("^[A-Za-z0-9_-]{1,64}$")]
    private static partial Regex ToolNamePattern();
}
