using OrleansGateway.Sessions;
using OrleansGateway.Storage;

namespace OrleansGateway.Agents;

/// <summary>
/// What runs a turn. A turn is a sequence of steps; the session checkpoints after each one, so after an
/// interruption the agent is asked for the step after the last checkpoint, never for a completed one again.
/// </summary>
/// <remarks>
/// An agent whose steps have effects (a model call, a tool call) returns each step's result as a
/// <see cref="AgentStepResult.Record"/>: the session journals it, fenced, before it asks for the next step, and hands
/// the whole journal back with every step (<see cref="AgentStep.Journal"/>). The agent decides its next step from the
/// journal alone, so that a resumed turn goes on exactly where the journal ends.
/// </remarks>
public interface IAgent
{
    /// <summary>Null when the agent can take <paramref name="text"/>, else why not (the client gets a 400).</summary>
    string? Validate(string text);

    /// <summary>How many steps the turn will take, when the agent knows in advance.</summary>
    int? PlannedSteps(string text);

    /// <summary>Runs step <see cref="AgentStep.Index"/> of a turn and says whether the turn is complete.</summary>
    Task<AgentStepResult> RunStepAsync(AgentStep step, CancellationToken cancellationToken);
}

/// <param name="Index">Zero-based index of the step to run; equal to the number of checkpointed steps.</param>
/// <param name="Resume">Set when this execution of the turn continues an interrupted one.</param>
public sealed record AgentStep(string SessionId, string TurnId, string Text, int Index, ResumeNote? Resume = null)
{
    /// <summary>Who runs the step: <c>silo/activation/epoch</c>, the epoch being the session's ownership in the ledger.</summary>
    public string Execution { get; init; } = "";

    /// <summary>The records of this turn's earlier steps that returned one, oldest first, each naming its step.</summary>
    public IReadOnlyList<JournalEntry> Journal { get; init; } = [];

    /// <summary>Where the step says what it is doing while it runs (text as a model streams it): live, not durable.</summary>
    public IStepOutput Output { get; init; } = StepOutput.None;
}

/// <summary>
/// What an agent is told when it continues an interrupted turn: why it stopped, at which step, and when.
/// The step at <see cref="InterruptedStep"/> may have run partly: its effect is unknown, not absent.
/// </summary>
public sealed record ResumeNote(string Reason, int InterruptedStep, DateTimeOffset InterruptedAt, int Attempt)
{
    public override string ToString() =>
        $"The previous execution of this turn was interrupted ({Reason}) at {InterruptedAt:u} during step {InterruptedStep + 1}. " +
        "Steps before it are recorded; a step without a recorded result has an unknown effect. Continue the task; do not re-run a restart.";
}

/// <summary>A step's outcome: a reply ends the turn, no reply means another step follows.</summary>
public sealed record AgentStepResult(string? Reply)
{
    public static AgentStepResult Continue { get; } = new((string?)null);

    /// <summary>The step's result, journaled before the next step starts; null for a step with nothing to keep.</summary>
    public JournalRecord? Record { get; init; }

    /// <summary>Tokens this step's model call used; the turn's usage is the sum over its steps.</summary>
    public TokenUsage? Usage { get; init; }

    public static AgentStepResult Complete(string reply) => new(reply);
}

/// <summary>A step's result as the agent writes it: a kind (<see cref="JournalKinds"/>) and a JSON document it alone reads.</summary>
public sealed record JournalRecord(string Kind, string Data);

/// <summary>The kinds of journal records; the stream tells of a model record as a tool call, of a tool record as its result.</summary>
public static class JournalKinds
{
    /// <summary>A model's answer that asked for tool calls.</summary>
    public const string Model = "model";

    /// <summary>A tool call's result (or error).</summary>
    public const string Tool = "tool";
}

/// <summary>Live output of a running step. Implementations never throw and never block the step.</summary>
public interface IStepOutput
{
    void TextDelta(string text);
}

public static class StepOutput
{
    public static IStepOutput None { get; } = new Discard();

    private sealed class Discard : IStepOutput
    {
        public void TextDelta(string text)
        {
        }
    }
}
