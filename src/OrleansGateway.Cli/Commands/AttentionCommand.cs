using System.CommandLine;
using System.Globalization;
using OrleansGateway.Cli.Operator;
using OrleansGateway.Operations;
using Spectre.Console;

namespace OrleansGateway.Cli.Commands;

/// <summary>
/// <c>ogw attention</c>: the dashboard's first view in a terminal. The sessions that need a person (waiting to be resumed,
/// stale or not, quarantined, suspended, a failed turn), newest risk first, with reason, owner, age and last error.
/// </summary>
public static partial class OperatorCommands
{
    private const int MaxAttention = 1000;

    private static Command Attention()
    {
        var api = new OperatorOptions();
        var limit = NumberOption("--limit", $"How many sessions, 1-{MaxAttention} (default: the API's 100)");
        var command = new Command("attention", "The sessions that need a person, newest risk first: waiting to be resumed, quarantined, suspended, a failed turn") { limit };
        api.AddTo(command);
        command.SetAction(async (parse, cancellationToken) =>
        {
            var count = parse.GetValue(limit);
            Require(count is null or (>= 1 and <= MaxAttention), $"--limit must be between 1 and {MaxAttention}");
            using var client = api.Connect(parse);
            var answer = await client.GetAttentionAsync(count, cancellationToken);
            if (api.WantsJson(parse))
            {
                Console.WriteLine(answer.Json);
                return 0;
            }

            WriteAttention(answer.Value);
            return 0;
        });
        return command;
    }

    private static void WriteAttention(AttentionResponse attention)
    {
        if (attention.Total == 0)
        {
            AnsiConsole.WriteLine("Nothing needs attention: no session waits, is quarantined or suspended, and no last turn failed.");
            return;
        }

        var table = new Table().AddColumns("Session", "Reason", "Phase", "Resume reason", "Owner", "Attempts", "Age", "Last error");
        foreach (var item in attention.Sessions)
        {
            table.AddRow(
                new Text(item.SessionId), new Text(item.Reason), new Text(item.Phase), new Text(item.ResumeReason ?? ""),
                new Text(item.OwnerSilo is null ? "" : item.OwnerDead ? $"{item.OwnerSilo} (Dead)" : item.OwnerSilo),
                new Text(item.Attempts.ToString(CultureInfo.InvariantCulture)), new Text(OperatorTables.Age(item.AgeSeconds)),
                new Text(item.LastError ?? ""));
        }

        TableOutput.Write(table);
        var reasons = string.Join(", ", attention.Reasons.OrderByDescending(pair => pair.Value).Select(pair => $"{pair.Value} {pair.Key}"));
        AnsiConsole.WriteLine(attention.Sessions.Count < attention.Total
            ? $"{attention.Sessions.Count} of {attention.Total} sessions shown ({reasons}); --limit shows more."
            : $"{attention.Total} sessions ({reasons}).");
    }
}
