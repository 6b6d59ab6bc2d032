using OrleansGateway.Operations;
using OrleansGateway.Sessions;
using OrleansGateway.Storage;

namespace OrleansGateway.Dashboard.Api;

/// <summary>
/// The operator API's documents (<see cref="OrleansGateway.Operations"/>, shared with <c>ogw</c>) made from what the
/// dashboard reads: the ledger, the grains, the history. Static extensions, so that they read as the documents'
/// own factories (<c>SessionSummary.From(row, ...)</c>) while the documents stay free of the ledger's types.
/// </summary>
public static class OperatorDocuments
{
    extension(SiloReportResponse)
    {
        public static SiloReportResponse From(SiloReport report) => new(
            report.Address, report.Active, report.Draining, report.ActiveSessions, report.RunningTurns, report.Version,
            report.NextStop == SiloStopKind.Restart ? "restart" : "drain");
    }

    extension(SessionSummary)
    {
        /// <param name="row">Read with the freshness window: the database decides whether its marker is stale.</param>
        public static SessionSummary From(LedgerRow row, DateTimeOffset now)
        {
            // The age of a session waiting to be resumed counts from its marker, any other from its last change.
            var waiting = row is { Phase: SessionPhase.ResumePending, ResumeMarkedAt: not null };
            var since = waiting ? row.ResumeMarkedAt!.Value : row.UpdatedAt;
            return new SessionSummary
            {
                SessionId = row.SessionId,
                Phase = row.Phase.ToName(),
                ResumeReason = row.ResumeReason,
                OwnerSilo = row.OwnerSilo,
                Attempts = row.ResumeAttempts,
                LastError = row.LastError,
                Stale = row.Stale == true,
                ResumeMarkedAt = row.ResumeMarkedAt,
                UpdatedAt = row.UpdatedAt,
                AgeSeconds = Math.Max(0, (long)(now - since).TotalSeconds),
            };
        }
    }

    extension(SessionDetail)
    {
        /// <param name="newest">The grain's newest turns, newest first; null when no silo answered, and <paramref name="turnsUnavailable"/> says why.</param>
        public static SessionDetail From(LedgerRow row, TurnPage? newest, string? turnsUnavailable, DateTimeOffset now) => new(
            SessionSummary.From(row, now), row.Epoch, row.ActiveTurnId,
            newest is null ? [] : [.. newest.WithStartsOf(row).Turns.Reverse().Select(TurnResponse.From)], turnsUnavailable)
        {
            TurnCount = newest?.TurnCount,
            TurnsBefore = newest?.Before,
        };
    }

    extension(TurnPage page)
    {
        /// <summary>The page with the starts the ledger counted for its active turn (<see cref="TurnView.WithStartsOf"/>).</summary>
        public TurnPage WithStartsOf(LedgerRow row) =>
            page with { Turns = [.. page.Turns.Select(turn => turn.WithStartsOf(row.ActiveTurnId, row.ActiveTurnStarts))] };
    }

    extension(EventResponse)
    {
        public static EventResponse From(GatewayEvent entry) => new(
            entry.Id, entry.At, entry.Kind, entry.SessionId, entry.Silo, entry.Actor, entry.Detail, entry.Waited?.TotalSeconds);
    }
}
