namespace OrleansGateway.Agents;

/// <summary>What the built-in scripted agent takes in <c>work &lt;steps&gt;x&lt;ms&gt;</c>; ogw's demos check their options against it.</summary>
public static class ScriptedAgentLimits
{
    public const int MaxSteps = 10_000;
    public const int MaxStepMilliseconds = 600_000;
}
