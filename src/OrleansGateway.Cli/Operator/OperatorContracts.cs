namespace OrleansGateway.Cli.Operator;

// What ogw adds to the operator API's documents (OrleansGateway.Operations, shared with the dashboard): the actions it
// asks for, and each answer kept with its JSON.

/// <summary>What a session action asks for; the route's last segment.</summary>
public enum SessionAction
{
    Resume,
    Suspend,
    Release,
}

/// <summary>What a silo action asks for; the route's last segment.</summary>
public enum SiloAction
{
    Drain,
    Restart,
}

/// <summary>A typed answer and the JSON it was read from, for <c>--json</c>.</summary>
public sealed record OperatorAnswer<T>(T Value, string Json);
