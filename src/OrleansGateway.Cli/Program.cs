using System.CommandLine;
using OrleansGateway.Cli.Commands;

var root = new RootCommand("ogw: run and operate an OrleansGateway cluster")
{
    UpCommand.Create(),
    DbCommands.Create(),
    DemoCommand.Create(),
};

try
{
    return await root.Parse(args).InvokeAsync(new InvocationConfiguration
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
    return 1;
}
catch (OperationCanceledException)
{
    return 130;
}
