using System.Threading.RateLimiting;
using OrleansGateway.Resume;
using OrleansGateway.Sessions;
using OrleansGateway.Storage;

namespace OrleansGateway.Tests.Resume;

/// <summary>A sweep gives up on a silo that refuses or does not answer for every session of it, those already leased too.</summary>
public sealed class OwnerSkippingResumerTests
{
    private const string Gone = "10.0.0.1:11111@1";
    private const string Alive = "10.0.0.2:11111@1";

    [Theory]
    [InlineData(null)]
    [InlineData(ResumeOutcome.Refused)]
    public async Task Sessions_already_leased_for_a_silo_that_failed_a_call_are_not_called_and_their_leases_go_back(ResumeOutcome? goneAnswers)
    {
        var (called, returned) = (new List<string>(), new List<string>());
        using var pace = new ConcurrencyLimiter(new ConcurrencyLimiterOptions { PermitLimit = 1, QueueLimit = 10 });
        var resumer = new OwnerSkippingResumer(pace,
            candidate =>
            {
                called.Add(candidate.SessionId);
                return Task.FromResult(candidate.OwnerSilo == Gone ? goneAnswers : ResumeOutcome.Resumed);
            },
            (candidate, _) =>
            {
                returned.Add(candidate.SessionId);
                return Task.CompletedTask;
            });

        // One leased batch, in the order the parallel loop takes it.
        foreach (var (sessionId, owner) in new[] { ("gone-1", Gone), ("gone-2", Gone), ("alive-1", Alive), ("gone-3", Gone) })
        {
            await resumer.ResumeAsync(new ResumeCandidate(sessionId, 1, ResumeReasons.RestartTimeout, DateTimeOffset.UtcNow, owner), CancellationToken.None);
        }

        Assert.Equal(["gone-1", "alive-1"], called);
        Assert.Equal(["gone-1", "gone-2", "gone-3"], returned);
        Assert.Equal([Gone], resumer.SkippedOwners);
    }

    [Fact]
    public async Task A_lost_claim_gives_its_lease_back_but_its_owner_is_still_called()
    {
        var (called, returned) = (new List<string>(), new List<string>());
        using var pace = new ConcurrencyLimiter(new ConcurrencyLimiterOptions { PermitLimit = 1, QueueLimit = 10 });
        var resumer = new OwnerSkippingResumer(pace,
            candidate =>
            {
                called.Add(candidate.SessionId);
                return Task.FromResult<ResumeOutcome?>(candidate.SessionId == "lost" ? ResumeOutcome.Lost : ResumeOutcome.Resumed);
            },
            (candidate, _) =>
            {
                returned.Add(candidate.SessionId);
                return Task.CompletedTask;
            });

        foreach (var sessionId in new[] { "lost", "resumed" })
        {
            await resumer.ResumeAsync(new ResumeCandidate(sessionId, 1, ResumeReasons.RestartTimeout, DateTimeOffset.UtcNow, Alive), CancellationToken.None);
        }

        Assert.Equal(["lost", "resumed"], called);
        Assert.Equal(["lost"], returned);
        Assert.Empty(resumer.SkippedOwners);
    }
}
