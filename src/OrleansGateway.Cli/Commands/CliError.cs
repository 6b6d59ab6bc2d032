namespace OrleansGateway.Cli.Commands;

/// <summary>An error the user can act on: printed as one line, the command exits with <see cref="ExitCode"/>.</summary>
public sealed class CliError(string message, int exitCode = ExitCodes.Failed) : Exception(message)
{
    public int ExitCode { get; } = exitCode;

    /// <summary>A bad command line: an option or argument that cannot work, said before anything is done.</summary>
    public static CliError Usage(string message) => new(message, ExitCodes.Usage);

    /// <summary>A server that could not be reached or is not available now.</summary>
    public static CliError Unavailable(string message) => new(message, ExitCodes.Unavailable);
}
