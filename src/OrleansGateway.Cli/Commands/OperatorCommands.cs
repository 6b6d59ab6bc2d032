using System.CommandLine;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using OrleansGateway.Cli.Operator;
using OrleansGateway.Operations;
using OrleansGateway.Sessions;

namespace OrleansGateway.Cli.Commands;

/// <summary>
/// The operator commands: <c>status</c>, <c>sessions</c>, <c>session</c>, <c>resume</c>, <c>suspend</c>, <c>release</c>,
/// <c>drain</c>, <c>restart</c>. Each checks its arguments, then calls the dashboard's operator API through
/// <see cref="OperatorApiClient"/> and prints tables, or the API's JSON with <c>--json</c>.
/// </summary>
public static partial class OperatorCommands
{
    private const int MaxLimit = 500;

    // For a terminal or a pipe, not a web page: '+' and non-ASCII text stay as the API sent them, unescaped.
    private static readonly JsonSerializerOptions OutputJson = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static IEnumerable<Command> Create() =>
    [
        Status(),
        Attention(),
        Sessions(),
        Session(),
        SessionChange(SessionAction.Resume, "Resume a session now: lift its suspension, or resume its interrupted turn (stale or not) ahead of the sweepers"),
        SessionChange(SessionAction.Suspend, "Suspend a session: its running turn stops at a checkpoint and nothing resumes it until `ogw resume`"),
        SessionChange(SessionAction.Release, "Release a quarantined session: it is resumed with a fresh count of attempts"),
        SiloChange(SiloAction.Drain, "Drain a silo and stop it: no new turns, its sessions resume on the other silos"),
        SiloChange(SiloAction.Restart, "Restart a silo: it drains, exits, and its supervisor (ogw up, systemd, Kubernetes) starts it again"),
    ];

    private static Command Status()
    {
        var api = new OperatorOptions();
        var command = new Command("status", "Silos and sessions by phase, from the operator dashboard (`ogw db status` reads the database instead)");
        api.AddTo(command);
        command.SetAction(async (parse, cancellationToken) =>
        {
            using var client = api.Connect(parse);
            var silos = await client.GetSilosAsync(cancellationToken);
            var counts = await client.GetSessionsAsync(new SessionQuery(Limit: 1), cancellationToken);
            if (api.WantsJson(parse))
            {
                WriteJson(new JsonObject
                {
                    ["silos"] = JsonNode.Parse(silos.Json),
                    ["counts"] = JsonNode.Parse(counts.Json)!["counts"]!.DeepClone(),
                });
            }
            else
            {
                OperatorTables.WriteStatus(silos.Value, counts.Value.Counts);
            }

            return 0;
        });
        return command;
    }

    private static Command Sessions()
    {
        var api = new OperatorOptions();
        var phase = new Option<string?>("--phase") { Description = $"Only sessions in this phase: {string.Join(", ", OperatorTables.Phases)}" };
        var silo = new Option<string?>("--silo") { Description = $"Only sessions owned by this silo: {SiloAddresses.Form}" };
        var stale = new Option<bool>("--stale") { Description = "Only stale sessions: resume markers too old to be resumed automatically" };
        var limit = NumberOption("--limit", $"Sessions per page, 1-{MaxLimit} (default: the API's 50; {MaxLimit} with --all)");
        var after = new Option<string?>("--after") { Description = "Start after this cursor (a page's `next`)" };
        var all = new Option<bool>("--all") { Description = "Follow the cursor to the last page and show every session" };
        var command = new Command("sessions", "List sessions, a page at a time (or --all), with counts by phase") { phase, silo, stale, limit, after, all };
        api.AddTo(command);
        command.SetAction(async (parse, cancellationToken) =>
        {
            var phaseName = parse.GetValue(phase);
            Require(phaseName is null || OperatorTables.Phases.Contains(phaseName), $"--phase '{phaseName}' is not a phase ({string.Join(", ", OperatorTables.Phases)})");
            var pageSize = parse.GetValue(limit);
            Require(pageSize is null or (>= 1 and <= MaxLimit), $"--limit must be between 1 and {MaxLimit}");
            var siloAddress = parse.GetValue(silo) is { } given ? SiloAddresses.Require(given, "--silo") : null;
            var followAll = parse.GetValue(all);
            var query = new SessionQuery(phaseName, siloAddress, parse.GetValue(stale), pageSize ?? (followAll ? MaxLimit : null), parse.GetValue(after));
            using var client = api.Connect(parse);

            var pages = new List<OperatorAnswer<SessionListResponse>> { await client.GetSessionsAsync(query, cancellationToken) };
            while (followAll && pages[^1].Value.Next is { } next)
            {
                if (next == query.After)
                {
                    throw new CliError($"the dashboard at {client.BaseUrl} answered the cursor '{next}' with the same cursor: the listing does not advance");
                }

                query = query with { After = next };
                pages.Add(await client.GetSessionsAsync(query, cancellationToken));
            }

            if (siloAddress is not null && pages.All(p => p.Value.Sessions.Count == 0))
            {
                await SiloAddresses.RequireKnownAsync(client, siloAddress, cancellationToken);
            }

            var last = pages[^1];
            if (api.WantsJson(parse))
            {
                // One page: the API's document as it came. Every page: the same shape, with all sessions and the
                // counts of the last page.
                WriteJson(pages.Count == 1 ? JsonNode.Parse(last.Json)! : new JsonObject
                {
                    ["sessions"] = new JsonArray([.. pages.SelectMany(p => JsonNode.Parse(p.Json)!["sessions"]!.AsArray()).Select(s => s!.DeepClone())]),
                    ["next"] = null,
                    ["counts"] = JsonNode.Parse(last.Json)!["counts"]!.DeepClone(),
                });
                return 0;
            }

            OperatorTables.WriteSessions([.. pages.SelectMany(p => p.Value.Sessions)], last.Value.Counts);
            if (last.Value.Next is { } cursor)
            {
                Console.WriteLine($"More sessions: add --after {cursor} (or --all for every page).");
            }

            return 0;
        });
        return command;
    }

    private static Command Session()
    {
        var api = new OperatorOptions();
        var id = SessionIdArgument();
        var turns = NumberOption("--turns", $"How many turns: the newest, 0-{MaxLimit} (default: the API's 50), or, with --before, those before it, 1-{MaxLimit}");
        var before = new Option<string?>("--before") { Description = "Only the turns before this one (a turn id such as t51, as `Older turns: add --before` names it)" };
        var command = new Command("session", "One session: its ledger row, its newest turns and its history; --before pages back through its older turns") { id, turns, before };
        api.AddTo(command);
        command.SetAction(async (parse, cancellationToken) =>
        {
            var sessionId = RequireSessionId(parse.GetValue(id)!);
            var count = parse.GetValue(turns);
            var cursor = parse.GetValue(before);
            Require(cursor is null || TurnIds.TryParse(cursor, out _), $"--before '{cursor}' is not {TurnIds.Rule}");
            Require(cursor is null ? count is null or (>= 0 and <= MaxLimit) : count is null or (>= 1 and <= MaxLimit),
                cursor is null ? $"--turns must be between 0 and {MaxLimit}" : $"--turns must be between 1 and {MaxLimit} with --before");
            using var client = api.Connect(parse);
            if (cursor is not null)
            {
                var page = await client.GetTurnPageAsync(sessionId, cursor, count, cancellationToken);
                Write(page, OperatorTables.WriteTurnPage);
                return 0;
            }

            Write(await client.GetSessionAsync(sessionId, count, cancellationToken), OperatorTables.WriteSession);
            return 0;

            void Write<T>(OperatorAnswer<T> answer, Action<T> table)
            {
                if (api.WantsJson(parse))
                {
                    Console.WriteLine(answer.Json);
                    return;
                }

                table(answer.Value);
            }
        });
        return command;
    }

    private static Command SessionChange(SessionAction action, string description)
    {
        var api = new OperatorOptions();
        var id = SessionIdArgument();
        var command = new Command(action.ToString().ToLowerInvariant(), description) { id };
        api.AddTo(command);
        command.SetAction(async (parse, cancellationToken) =>
        {
            var sessionId = RequireSessionId(parse.GetValue(id)!);
            using var client = api.Connect(parse);
            var change = await client.ChangeSessionAsync(sessionId, action, cancellationToken);
            if (api.WantsJson(parse))
            {
                Console.WriteLine(change.Json);
            }
            else
            {
                OperatorTables.WriteSessionChange(change.Value);
            }

            return 0;
        });
        return command;
    }

    private static Command SiloChange(SiloAction action, string description)
    {
        var api = new OperatorOptions();
        var address = new Argument<string>("silo-address") { Description = $"The silo: {SiloAddresses.Form}" };
        var command = new Command(action.ToString().ToLowerInvariant(), description) { address };
        api.AddTo(command);
        command.SetAction(async (parse, cancellationToken) =>
        {
            var silo = SiloAddresses.Require(parse.GetValue(address)!);
            using var client = api.Connect(parse);
            var change = await client.ChangeSiloAsync(silo, action, cancellationToken);
            if (api.WantsJson(parse))
            {
                Console.WriteLine(change.Json);
            }
            else
            {
                OperatorTables.WriteSiloChange(action, change.Value);
            }

            return 0;
        });
        return command;
    }

    /// <summary>A whole-number option whose range the command checks; a word that is not a number is refused by name.</summary>
    private static Option<int?> NumberOption(string name, string description) => new(name)
    {
        Description = description,
        CustomParser = result =>
        {
            var text = result.Tokens.Single().Value;
            if (int.TryParse(text, System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out var number))
            {
                return number;
            }

            result.AddError($"{name} '{text}' is not a number");
            return null;
        },
    };

    private static Argument<string> SessionIdArgument() => new("session-id") { Description = $"The session: {SessionIds.Rule}" };

    internal static string RequireSessionId(string sessionId)
    {
        Require(SessionIds.IsValid(sessionId), $"'{sessionId}' is not a session id ({SessionIds.Rule})");
        Require(sessionId is not ("." or ".."), $"the session id '{sessionId}' cannot be named in a URL path (HTTP resolves '.' and '..' away)");
        return sessionId;
    }

    private static void Require(bool condition, string problem)
    {
        if (!condition)
        {
            throw CliError.Usage(problem);
        }
    }

    private static void WriteJson(JsonNode document) => Console.WriteLine(document.ToJsonString(OutputJson));
}
