namespace OrleansGateway;

/// <summary>Names of the Orleans storage providers the gateway's grains use.</summary>
public static class GatewayStorageNames
{
    public const string Sessions = "sessions";
}
