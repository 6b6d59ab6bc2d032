using System.CommandLine;
using OrleansGateway.Cli.Operator;

namespace OrleansGateway.Cli.Commands;

/// <summary>The options of every command that talks to the dashboard's operator API: where, with which token, and <c>--json</c>.</summary>
public sealed class OperatorOptions
{
    public const string UrlVariable = "OGW_URL";
    public const string TokenVariable = "OGW_OPERATOR_TOKEN";

    public Option<string?> Url { get; } = new("--url")
    {
        Description = $"Base URL of the operator dashboard (default: {UrlVariable}, else {OperatorApiClient.DefaultUrl})",
    };

    // No DefaultValueFactory: help would print the token of the environment.
    public Option<string?> Token { get; } = new("--token")
    {
        Description = $"Operator token, sent as Authorization: Bearer (default: {TokenVariable})",
    };

    public Option<bool> Json { get; } = new("--json") { Description = "Print the API's JSON instead of tables" };

    public void AddTo(Command command)
    {
        command.Options.Add(Url);
        command.Options.Add(Token);
        command.Options.Add(Json);
    }

    /// <summary>A client for the dashboard the options name; a <see cref="CliError"/> for a bad URL or a missing token, before any request.</summary>
    public OperatorApiClient Connect(ParseResult parse)
    {
        var (url, source) = parse.GetValue(Url) is { } given ? (given, "--url")
            : Environment.GetEnvironmentVariable(UrlVariable) is { Length: > 0 } fromEnvironment ? (fromEnvironment, UrlVariable)
            : (OperatorApiClient.DefaultUrl, "the default URL");
        if (!Uri.TryCreate(url, UriKind.Absolute, out var baseUrl) || baseUrl.Scheme is not ("http" or "https") || baseUrl.Host.Length == 0)
        {
            throw new CliError($"{source} '{url}' is not an http:// or https:// URL");
        }

        var token = parse.GetValue(Token) ?? Environment.GetEnvironmentVariable(TokenVariable);
        if (string.IsNullOrEmpty(token))
        {
            throw new CliError($"no operator token: pass --token or set {TokenVariable}");
        }

        if (token.Any(c => char.IsWhiteSpace(c) || char.IsControl(c)))
        {
            throw new CliError("the operator token contains spaces or control characters");
        }

        return new OperatorApiClient(baseUrl, token);
    }

    public bool WantsJson(ParseResult parse) => parse.GetValue(Json);
}
