namespace OrleansGateway.Agents;

/// <summary>
/// What runs a turn. A turn is a sequence of steps; the session checkpoints after each one, so after an
/// interruption the agent is asked for the step after the last checkpoint, never for a completed one again.
/// </summary>
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

    public static AgentStepResult Complete(string reply) => new(reply);
}
