using System.Globalization;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Options;

namespace OrleansGateway.Agents;

/// <summary>The scripted agent's part of the <c>Gateway:Agent</c> section (the model agent's is <see cref="Model.AgentOptions"/>).</summary>
public sealed class ScriptedAgentOptions
{
    public const string Section = "Gateway:Agent";

    /// <summary>
    /// Lets the texts <c>fail</c> (the step throws), <c>fail &lt;steps&gt;x&lt;ms&gt;</c> (work whose last step throws)
    /// and <c>crash</c> (the silo process dies at once) inject faults, for resilience tests and drills.
    /// Off by default: then they are ordinary text, echoed back.
    /// </summary>
    public bool FaultInjection { get; set; }

    /// <summary>
    /// A folder where each silo process appends the start and end of every step it runs (<see cref="StepTraceEntry"/>), for
    /// the chaos soak to check that no two executions of a turn overlap. Off (null) by default.
    /// </summary>
    public string? StepTrace { get; set; }
}

/// <summary>
/// The built-in deterministic agent. <c>work &lt;steps&gt;x&lt;ms&gt;</c> runs <c>steps</c> steps of <c>ms</c>
/// milliseconds each and replies <c>done &lt;steps&gt; steps</c>; any other text is echoed back in one step.
/// It stands in for a model with tools: long, checkpointable, and predictable enough to test resume with.
/// </summary>
public sealed partial class ScriptedAgent(TimeProvider time, IOptions<ScriptedAgentOptions> options, StepTraceWriter trace) : IAgent
{
    public string? Validate(string text) => Parse(text) switch
    {
        WorkScript { Steps: < 1 or > ScriptedAgentLimits.MaxSteps } => $"steps must be between 1 and {ScriptedAgentLimits.MaxSteps}",
        WorkScript { StepMilliseconds: < 0 or > ScriptedAgentLimits.MaxStepMilliseconds } => $"step milliseconds must be between 0 and {ScriptedAgentLimits.MaxStepMilliseconds}",
        _ => null,
    };

    public int? PlannedSteps(string text) => Parse(text) is WorkScript work ? (int)work.Steps : 1;

    public async Task<AgentStepResult> RunStepAsync(AgentStep step, CancellationToken cancellationToken)
    {
        trace.Record(step, StepTraceEvent.Start);
        var outcome = "failed";
        try
        {
            var result = await RunAsync(step, cancellationToken);
            outcome = result.Reply is null ? "continue" : "complete";
            return result;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            outcome = "cancelled";
            throw;
        }
        finally
        {
            trace.Record(step, StepTraceEvent.End, outcome);
        }
    }

    private async Task<AgentStepResult> RunAsync(AgentStep step, CancellationToken cancellationToken)
    {
        var faults = options.Value.FaultInjection;
        if (faults && step.Text.Trim() == "crash")
        {
            Environment.FailFast($"scripted crash in session {step.SessionId} turn {step.TurnId}");
        }

        if (faults && step.Text.Trim() == "fail")
        {
            throw new InvalidOperationException("scripted failure");
        }

        if (Parse(step.Text) is not WorkScript work)
        {
            return AgentStepResult.Complete(step.Text);
        }

        await Task.Delay(TimeSpan.FromMilliseconds(work.StepMilliseconds), time, cancellationToken);
        var last = step.Index + 1 >= work.Steps;
        if (last && work.FailsAtEnd)
        {
            throw new InvalidOperationException($"scripted failure at step {step.Index + 1}");
        }

        return last ? AgentStepResult.Complete($"done {work.Steps} steps") : AgentStepResult.Continue;
    }

    private WorkScript? Parse(string text)
    {
        var match = WorkPattern().Match(text);
        var failsAtEnd = match.Groups["verb"].Value == "fail";
        if (!match.Success || (failsAtEnd && !options.Value.FaultInjection))
        {
            return null;
        }

        // Out-of-range numbers saturate instead of overflowing, so that Validate can name the limit.
        static long Number(Group group) =>
            long.TryParse(group.ValueSpan, NumberStyles.None, CultureInfo.InvariantCulture, out var value) ? value : long.MaxValue;

        return new WorkScript(Number(match.Groups["steps"]), Number(match.Groups["ms"]), failsAtEnd);
    }

    private sealed record WorkScript(long Steps, long StepMilliseconds, bool FailsAtEnd);

    [GeneratedRegex(@"^\s*(?<verb>work|fail)\s+(?<steps>\d+)x(?<ms>\d+)\s*$", RegexOptions.CultureInvariant)]
    private static partial Regex WorkPattern();
}
