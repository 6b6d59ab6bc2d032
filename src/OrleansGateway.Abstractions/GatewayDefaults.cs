namespace OrleansGateway;

/// <summary>Defaults the silo, the dashboard and ogw must agree on, each of them reading its own configuration.</summary>
public static class GatewayDefaults
{
    /// <summary><c>Orleans:ClusterId</c> when none is configured.</summary>
    public const string ClusterId = "ogw";

    /// <summary><c>Orleans:ServiceId</c> when none is configured: the grain state of the service is kept under it.</summary>
    public const string ServiceId = "orleans-gateway";

    /// <summary><c>Gateway:Resume:FreshnessWindow</c>: how old a resume marker may be and still be resumed automatically.</summary>
    public static readonly TimeSpan FreshnessWindow = TimeSpan.FromHours(1);
}
