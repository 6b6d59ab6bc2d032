using System.CommandLine;
using System.CommandLine.Invocation;
using OrleansGateway.Cli.Chat;
using OrleansGateway.Cli.Commands;
using OrleansGateway.LocalCluster;

TableOutput.UnwrapWhenRedirected();
var root = new RootCommand("ogw: run and operate an OrleansGateway cluster")
{
    UpCommand.Create(),
    DbCommands.Create(),
    DemoCommand.Create(),
    ChatCommand.Create(),
};
foreach (var command in OperatorCommands.Create())
{
    root.Subcommands.Add(command);
}

root.Subcommands.Add(HelpCommand.Create(root));

var parse = root.Parse(args);
if (parse.Errors.Count > 0 && parse.Action is ParseErrorAction)
{
    if (args.Length == 0)
    {
        // `ogw` alone: the help, as a usage error all the same (nothing was done).
        await parse.InvokeAsync();
        return ExitCodes.Usage;
    }

    // A bad command line is one line, as every other error: what is wrong, and where the help is.
    var path = new List<string>();
    for (var result = parse.CommandResult; result is not null; result = result.Parent as System.CommandLine.Parsing.CommandResult)
    {
        path.Insert(0, result.Command.Name);
    }

    Console.Error.WriteLine($"ogw: {string.Join(" ", parse.Errors.Select(e => e.Message.TrimEnd('.') + "."))} See `{string.Join(' ', path)} --help`.");
    return ExitCodes.Usage;
}

try
{
    return await parse.InvokeAsync(new InvocationConfiguration
    {
        EnableDefaultExceptionHandler = false,
        // Ctrl+C and SIGTERM cancel the command's token; `ogw up` then stops its silos gracefully (they drain
        // running turns) and its database, which takes longer than the library's 2 s default allows.
        ProcessTerminationTimeout = TimeSpan.FromMinutes(5),
    });
}
catch (CliError error)
{
    Console.Error.WriteLine($"ogw: {error.Message}");
    return error.ExitCode;
}
catch (LocalClusterException error)
{
    // The local cluster's library says its errors in one line too; the user sees them as every other ogw error.
    Console.Error.WriteLine($"ogw: {error.Message}");
    return error.Unreachable ? ExitCodes.Unavailable : ExitCodes.Failed;
}
catch (Npgsql.NpgsqlException exception)
{
    // Every command says which database; this is for a statement that does not, still one line rather than a stack trace.
    Console.Error.WriteLine($"ogw: PostgreSQL: {exception.GetBaseException().Message}");
    return exception is Npgsql.PostgresException ? ExitCodes.Failed : ExitCodes.Unavailable;
}
catch (OperationCanceledException)
{
    return ExitCodes.Interrupted;
}
