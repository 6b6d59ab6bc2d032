using System.CommandLine;
using OrleansGateway.Cli.Commands;

var root = new RootCommand("ogw: run and operate an OrleansGateway cluster")
{
    UpCommand.Create(),
    DbCommands.Create(),
    StatusCommand.Create(),
};

try
{
    return await root.Parse(args).InvokeAsync(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
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
