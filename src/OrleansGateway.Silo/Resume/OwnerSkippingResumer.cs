using System.Collections.Concurrent;
using System.Threading.RateLimiting;
using OrleansGateway.Sessions;
using OrleansGateway.Storage;

namespace OrleansGateway.Resume;

/// <summary>
/// The resume calls of one sweep, paced. An owner whose activation refused (it drains) or did not answer (it died, not
/// yet declared) is skipped from then on for every session of it, those already leased included: no call, the lease
/// given back at once. Its sessions are left to the sweep its departure triggers; everyone else's go on.
/// </summary>
internal sealed class OwnerSkippingResumer(
    RateLimiter pace,
    Func<ResumeCandidate, Task<ResumeOutcome?>> resume,
    Func<ResumeCandidate, CancellationToken, Task> returnLease)
{
    private readonly ConcurrentDictionary<string, bool> _skippedOwners = new();

    /// <summary>The owners skipped so far: the next lease leaves their sessions out.</summary>
    public IReadOnlyCollection<string> SkippedOwners => [.. _skippedOwners.Keys];

    /// <summary>Calls the session's grain unless its owner is skipped; a null outcome is a call that failed.</summary>
    public async ValueTask ResumeAsync(ResumeCandidate candidate, CancellationToken cancellationToken)
    {
        var (called, outcome) = (false, default(ResumeOutcome?));
        if (!Skips(candidate))
        {
            using var lease = await pace.AcquireAsync(1, cancellationToken);

            // Looked at again: the owner may have been skipped while this call waited for its pace.
            if (!Skips(candidate))
            {
                (called, outcome) = (true, await resume(candidate));
            }
        }

        if (called && outcome is null or ResumeOutcome.Refused && candidate.OwnerSilo is { } owner)
        {
            _skippedOwners.TryAdd(owner, true);
        }

        if (!called || outcome is null or ResumeOutcome.Refused or ResumeOutcome.Lost)
        {
            // The claim is a compare-and-set, so a retry is always safe, and holding the lease would stall the session
            // for its whole duration.
            await returnLease(candidate, cancellationToken);
        }
    }

    private bool Skips(ResumeCandidate candidate) => candidate.OwnerSilo is { } owner && _skippedOwners.ContainsKey(owner);
}
