using System.CommandLine;
using OrleansGateway.Cli.Operator;

namespace OrleansGateway.Cli.Commands;

/// <summary>The options of every command that talks to the dashboard's operator API: where, with which token, and <c>--json</c>.</summary>
public sealed class OperatorOptions
{
    public const string UrlVariable = "OGW_URL";
    public const string TokenVariable = "OGW_OPERATOR_TOKEN";
    public const string TokenFileVariable = "OGW_OPERATOR_TOKEN_FILE";

    public Option<string?> Url { get; } = new("--url")
    {
        Description = $"Base URL of the operator dashboard (default: {UrlVariable}, else {OperatorApiClient.DefaultUrl})",
    };

    // No DefaultValueFactory: help would print the token of the environment.
    public Option<string?> Token { get; } = new("--token")
    {
        Description = $"Operator token, sent as Authorization: Bearer (default: {TokenVariable}, else the file {TokenFileVariable} names)",
    };

    public Option<string?> TokenFile { get; } = new("--token-file")
    {
        Description = "A file that holds the operator token (a trailing newline is ignored), e.g. a mounted secret; keeps it out of the process list",
    };

    public Option<bool> Json { get; } = new("--json") { Description = "Print the API's JSON instead of tables" };

    public void AddTo(Command command)
    {
        command.Options.Add(Url);
        command.Options.Add(Token);
        command.Options.Add(TokenFile);
        command.Options.Add(Json);
    }

    /// <summary>A client for the dashboard the options name; a usage <see cref="CliError"/> for a bad URL or no usable token, before any request.</summary>
    public OperatorApiClient Connect(ParseResult parse)
    {
        var (url, source) = parse.GetValue(Url) is { } given ? (given, "--url")
            : Environment.GetEnvironmentVariable(UrlVariable) is { Length: > 0 } fromEnvironment ? (fromEnvironment, UrlVariable)
            : (OperatorApiClient.DefaultUrl, "the default URL");
        if (!Uri.TryCreate(url, UriKind.Absolute, out var baseUrl) || baseUrl.Scheme is not ("http" or "https") || baseUrl.Host.Length == 0)
        {
            throw CliError.Usage($"{source} '{url}' is not an http:// or https:// URL");
        }

        return new OperatorApiClient(baseUrl, ReadToken(parse));
    }

    public bool WantsJson(ParseResult parse) => parse.GetValue(Json);

    /// <summary>--token, else --token-file, else <c>OGW_OPERATOR_TOKEN</c>, else the file <c>OGW_OPERATOR_TOKEN_FILE</c> names.</summary>
    private string ReadToken(ParseResult parse)
    {
        var (token, file) = (parse.GetValue(Token), parse.GetValue(TokenFile));
        if (token is not null && file is not null)
        {
            throw CliError.Usage("--token and --token-file both name the operator token: pass one");
        }

        var (value, source) = token is not null ? (token, "--token")
            : file is not null ? (TokenFiles.Read(file, "--token-file"), "--token-file")
            : Environment.GetEnvironmentVariable(TokenVariable) is { Length: > 0 } fromEnvironment ? (fromEnvironment, TokenVariable)
            : Environment.GetEnvironmentVariable(TokenFileVariable) is { Length: > 0 } path ? (TokenFiles.Read(path, TokenFileVariable), TokenFileVariable)
            : ("", "");
        if (value.Length == 0)
        {
            throw CliError.Usage($"no operator token: pass --token or --token-file, or set {TokenVariable} or {TokenFileVariable}");
        }

        if (value.Any(c => char.IsWhiteSpace(c) || char.IsControl(c)))
        {
            throw CliError.Usage($"the operator token of {source} contains spaces or control characters");
        }

        return value;
    }
}
