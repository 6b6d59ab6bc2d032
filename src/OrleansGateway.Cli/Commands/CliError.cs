namespace OrleansGateway.Cli.Commands;

/// <summary>An error the user can act on: printed as one line, the command exits non-zero.</summary>
public sealed class CliError(string message) : Exception(message);
