using System.Text.Json;
using OrleansGateway.Operations;
using OrleansGateway.Sessions;
using OrleansGateway.Storage;

namespace OrleansGateway.Dashboard.Api;

/// <summary>The documents of the operators' first view made from what the dashboard read (as <see cref="OperatorDocuments"/>).</summary>
public static class OverviewDocuments
{
    extension(AttentionResponse)
    {
        public static AttentionResponse From(AttentionList list, DateTimeOffset now)
        {
            var items = list.Sessions.Select(entry => new AttentionItem(
                entry.Session.SessionId, Reason(entry.Session), entry.Session.Phase.ToName(), entry.Session.ResumeReason, entry.Session.OwnerSilo,
                entry.OwnerDead, entry.Session.ResumeAttempts, entry.Session.LastError, entry.Since,
                Math.Max(0, (long)(now - entry.Since).TotalSeconds))).ToList();
            return new AttentionResponse(now, items, list.Total, items.GroupBy(item => item.Reason).ToDictionary(group => group.Key, group => (long)group.Count()));
        }
    }

    extension(ResumeLagPoint)
    {
        public static ResumeLagPoint From(ResumeLag lag) => new(lag.At, lag.SessionId, lag.Silo, lag.Waited.TotalSeconds, lag.DrainWait.TotalSeconds,
            (lag.Waited - lag.DrainWait).TotalSeconds, lag.StopKind);
    }

    extension(TimelineEntry)
    {
        public static TimelineEntry From(TimelineEvent entry) => new(entry.At, entry.Kind, entry.Source,
            entry.TurnNumber is { } number ? TurnIds.Format(number) : null, entry.Silo, entry.Actor,
            entry.Data is null ? entry.Detail : TurnDetail(entry.Kind, entry.Data), entry.Waited?.TotalSeconds);
    }

    /// <summary>Why the session needs a person; a failed turn only when nothing else explains it.</summary>
    private static string Reason(LedgerRow row) => row.Phase switch
    {
        SessionPhase.ResumePending => row.Stale == true ? "stale" : "resume_pending",
        SessionPhase.Quarantined => "quarantined",
        SessionPhase.Suspended => "suspended",
        _ => "failed_turn",
    };

    /// <summary>A turn event's document as one short line (its JSON as <c>TurnEventDocuments</c> writes it on the silos).</summary>
    private static string TurnDetail(string kind, string data)
    {
        using var document = JsonDocument.Parse(data);
        var root = document.RootElement;
        string? Text(string name) => root.TryGetProperty(name, out var value) && value.ValueKind != JsonValueKind.Null ? value.ToString() : null;
        var step = int.TryParse(Text("step"), out var done) ? done : 0;
        return kind switch
        {
            TurnEventKinds.Accepted => $"message {Text("messageId")}: {Shorten(Text("text"))}{(Text("started") == "False" ? " (queued)" : "")}",
            TurnEventKinds.Started => $"execution {Text("execution")} from step {step + 1}",
            TurnEventKinds.Resumed => $"execution {Text("execution")} from step {step + 1} ({Text("reason")})",
            TurnEventKinds.Interrupted => $"after step {step}",
            TurnEventKinds.Completed => $"after {Text("steps")} steps, {Text("executions")} executions",
            TurnEventKinds.Failed => $"error: {Text("error")}",
            _ => "",
        };
    }

    private static string Shorten(string? text) => text is null ? "" : text.Length <= 60 ? text : text[..59] + "…";
}

/// <summary>
/// The silos as operators think of them: one row per endpoint (<c>ip:port</c>), its newest generation, the earlier ones
/// (a restart) collapsed under it; sorted by name. An endpoint whose newest generation died more than
/// <see cref="SiloDirectory.DeadSilosShownFor"/> ago is left out, as in <c>GET /silos</c>.
/// </summary>
public static class SiloOverviews
{
    /// <summary>Groups of one endpoint's generations, newest first; the groups sorted by the newest one's name.</summary>
    public static List<List<SiloRow>> Shown(IReadOnlyList<SiloRow> rows, DateTimeOffset now) =>
        [.. rows.GroupBy(row => Endpoint(row.Address))
            .Select(group => group.OrderByDescending(row => row.StartedAt).ThenByDescending(row => Generation(row.Address)).ToList())
            .Where(group => group[0].Status != SiloStatuses.Dead || LastSeen(group[0]) >= now - SiloDirectory.DeadSilosShownFor)
            .OrderBy(group => group[0].SiloName, StringComparer.Ordinal)
            .ThenBy(group => Endpoint(group[0].Address), StringComparer.Ordinal)];

    public static SiloOverview From(List<SiloRow> generations, SiloReport? report, IReadOnlyList<OwnedSessions> owned)
    {
        var newest = generations[0];
        var byOwner = owned.ToDictionary(entry => entry.OwnerSilo, entry => entry.ByPhase);
        long Owned(string address, SessionPhase? phase = null) => byOwner.TryGetValue(address, out var phases)
            ? phase is { } only ? phases.GetValueOrDefault(only) : phases.Values.Sum()
            : 0;
        return new SiloOverview(
            newest.Address, Endpoint(newest.Address), Generation(newest.Address), newest.SiloName, newest.Status, report?.Draining,
            Owned(newest.Address), Owned(newest.Address, SessionPhase.Running), report?.ActiveSessions, report?.RunningTurns, newest.Version,
            report is not null, newest.StartedAt,
            [.. generations.Skip(1).Select(row => new SiloGenerationResponse(row.Address, Generation(row.Address), row.Status, row.StartedAt, Owned(row.Address)))]);
    }

    private static string Endpoint(string address) => address[..address.LastIndexOf('@')];

    private static int Generation(string address) => int.Parse(address[(address.LastIndexOf('@') + 1)..], System.Globalization.CultureInfo.InvariantCulture);

    private static DateTimeOffset LastSeen(SiloRow row) => row.StartedAt > row.IAmAliveAt ? row.StartedAt : row.IAmAliveAt;
}
