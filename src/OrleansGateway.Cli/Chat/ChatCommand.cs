using System.CommandLine;
using OrleansGateway.Cli.Commands;
using OrleansGateway.LocalCluster;

namespace OrleansGateway.Cli.Chat;

/// <summary><c>ogw chat &lt;session-id&gt;</c>: a conversation with a session from the terminal or a pipe.</summary>
public static class ChatCommand
{
    public const string SilosVariable = "OGW_SILOS";

    public static Command Create()
    {
        var id = new Argument<string>("session-id") { Description = "The session (a new id starts a new session)" };
        var silo = new Option<string[]>("--silo")
        {
            Description = $"Base URL of a silo's HTTP API; repeat it for the others, which are tried in turn when one does not answer "
                + $"(default: {SilosVariable}, comma-separated, else the silos of `ogw up`: {string.Join(", ", DefaultSilos())})",
            AllowMultipleArgumentsPerToken = true,
        };
        var command = new Command("chat", "Chat with a session: each line of input is posted as a message, the reply printed as it streams; "
            + $"ends at the end of input, after the last reply. The API key, for silos with API clients, is read from {UpCommand.ApiKeyVariable}") { id, silo };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var sessionId = OperatorCommands.RequireSessionId(parse.GetValue(id)!);
            var silos = ReadSilos(parse.GetValue(silo));
            using var chat = new ChatSession(silos, sessionId, Console.Out, Environment.GetEnvironmentVariable(UpCommand.ApiKeyVariable));
            return await chat.RunAsync(Console.In, cancellationToken);
        });
        return command;
    }

    private static List<Uri> ReadSilos(string[]? given)
    {
        var (urls, source) = given is { Length: > 0 } ? (given, "--silo")
            : Environment.GetEnvironmentVariable(SilosVariable) is { Length: > 0 } fromEnvironment
                ? (fromEnvironment.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries), SilosVariable)
                : (DefaultSilos(), "the default silos");
        return [.. urls.Select(url => Uri.TryCreate(url.EndsWith('/') ? url : url + "/", UriKind.Absolute, out var uri)
            && uri.Scheme is "http" or "https" && uri.Host.Length > 0
                ? uri
                : throw CliError.Usage($"{source}: '{url}' is not an http:// or https:// URL (a silo's HTTP API, e.g. {DefaultSilos()[0]})"))];
    }

    private static string[] DefaultSilos() =>
        [.. Enumerable.Range(0, 3).Select(i => $"http://127.0.0.1:{ClusterPorts.Default.Http + i}/")];
}
