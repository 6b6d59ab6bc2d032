namespace OrleansGateway;

/// <summary>Names of the Orleans storage providers the gateway's grains use.</summary>
public static class GatewayStorageNames
{
    public const string Sessions = "sessions";

    /// <summary>The session grain's state in <see cref="Sessions"/>: its <c>orleansstorage.graintypestring</c>.</summary>
    public const string SessionState = "session";
}
