using System.CommandLine;

namespace OrleansGateway.Cli.Commands;

/// <summary><c>ogw help [command ...]</c>: the same help as <c>--help</c>, for people who type the word.</summary>
public static class HelpCommand
{
    public static Command Create(RootCommand root)
    {
        var path = new Argument<string[]>("command") { Description = "The command to explain, e.g. `db status`; none for every command", Arity = ArgumentArity.ZeroOrMore };
        var command = new Command("help", "Show the help of ogw or of a command (as --help does)") { path };
        command.SetAction((parse, cancellationToken) =>
        {
            var words = parse.GetValue(path) ?? [];
            Command current = root;
            var named = new List<string> { root.Name };
            foreach (var word in words)
            {
                var known = string.Join(' ', named);
                current = current.Subcommands.FirstOrDefault(c => c.Name == word || c.Aliases.Contains(word))
                    ?? throw CliError.Usage($"help: `{known}` has no command '{word}'; `{known} --help` lists them");
                named.Add(word);
            }

            // The words as given, then --help: the library prints the help of the command they name.
            return root.Parse([.. words, "--help"]).InvokeAsync(cancellationToken: cancellationToken);
        });
        return command;
    }
}
