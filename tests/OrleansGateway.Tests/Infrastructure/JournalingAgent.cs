using System.Collections.Concurrent;
using System.Globalization;
using OrleansGateway.Agents;
using OrleansGateway.Sessions;

namespace OrleansGateway.Tests.Infrastructure;

/// <summary>
/// An agent whose every step but the last returns a record, as a model-backed one does: <c>journal &lt;n&gt;x&lt;ms&gt;</c>
/// runs <c>n</c> steps of <c>ms</c> milliseconds, records <c>{"step":i}</c> with 10 input and 5 output tokens for each, and
/// replies with the steps its journal held. Every step it is asked for is kept, with the journal it was given.
/// </summary>
public sealed class JournalingAgent : IAgent
{
    public static ConcurrentQueue<AgentStep> Asked { get; } = new();

    public string? Validate(string text) => null;

    public int? PlannedSteps(string text) => Parse(text).Steps;

    public async Task<AgentStepResult> RunStepAsync(AgentStep step, CancellationToken cancellationToken)
    {
        Asked.Enqueue(step);
        var (steps, milliseconds) = Parse(step.Text);
        await Task.Delay(milliseconds, cancellationToken);
        step.Output.TextDelta($"step {step.Index} ");
        if (step.Index + 1 < steps)
        {
            return AgentStepResult.Continue with
            {
                Record = new JournalRecord(JournalKinds.Tool, $$"""{"step":{{step.Index}}}"""),
                Usage = new TokenUsage(10, 5),
            };
        }

        var recorded = string.Join(",", step.Journal.Select(entry => entry.Step.ToString(CultureInfo.InvariantCulture)));
        return AgentStepResult.Complete($"journal [{recorded}]") with { Usage = new TokenUsage(1, 1) };
    }

    private static (int Steps, int Milliseconds) Parse(string text)
    {
        var parts = text.Split(' ', 'x');
        return parts is ["journal", var steps, var ms] ? (int.Parse(steps, CultureInfo.InvariantCulture), int.Parse(ms, CultureInfo.InvariantCulture)) : (1, 0);
    }
}
