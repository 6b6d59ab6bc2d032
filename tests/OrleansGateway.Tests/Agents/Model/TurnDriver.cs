using OrleansGateway.Agents;
using OrleansGateway.Sessions;
using OrleansGateway.Storage;

namespace OrleansGateway.Tests.Agents.Model;

/// <summary>A finished (or stopped) run of a turn: its reply, the journal it wrote, and the usage of all its steps.</summary>
public sealed record TurnRun(string? Reply, IReadOnlyList<JournalEntry> Journal, TokenUsage Usage);

/// <summary>
/// Runs a turn's steps the way the session grain does, without a cluster: each non-final step's record is journaled and the
/// whole journal handed to the next step; a reply ends the turn. A resumed turn starts from the journal it is given.
/// </summary>
public static class TurnDriver
{
    public static async Task<TurnRun> RunAsync(IAgent agent, string sessionId, string turnId, string text,
        IReadOnlyList<JournalEntry>? journal = null, IStepOutput? output = null, int? stopAfterSteps = null, ResumeNote? resume = null)
    {
        var entries = new List<JournalEntry>(journal ?? []);
        var usage = new TokenUsage(0, 0);
        for (var run = 0; stopAfterSteps is null || run < stopAfterSteps; run++)
        {
            // As the grain: the note of a resumed execution goes with each of its steps.
            var step = new AgentStep(sessionId, turnId, text, entries.Count, resume) { Journal = [.. entries], Output = output ?? StepOutput.None };
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            var result = await agent.RunStepAsync(step, timeout.Token);
            usage += result.Usage ?? new TokenUsage(0, 0);
            if (result.Reply is not null)
            {
                return new TurnRun(result.Reply, entries, usage);
            }

            var record = result.Record ?? throw new InvalidOperationException($"step {step.Index} continued without a record");
            entries.Add(new JournalEntry(step.Index, record.Kind, record.Data, result.Usage));
        }

        return new TurnRun(null, entries, usage);
    }
}
