namespace OrleansGateway.Dashboard.Hosting;

/// <summary>
/// The dashboard's defaults, below every other source (an <c>appsettings.json</c> beside the binary, the environment,
/// the command line). Kept in code rather than in a shipped appsettings.json so that projects referencing this one
/// (the tests) do not get a second appsettings.json copied over the silo's.
/// </summary>
public static class DashboardDefaults
{
    public const int Port = 8080;

    public static readonly IReadOnlyDictionary<string, string?> Settings = new Dictionary<string, string?>
    {
        ["Urls"] = $"http://127.0.0.1:{Port}",
        ["Logging:LogLevel:Default"] = "Information",
        ["Logging:LogLevel:Microsoft.AspNetCore"] = "Warning",
        // Nothing the dashboard keeps is protected with its keys (the cookie holds the token itself); its warning
        // about unencrypted keys at rest would only alarm.
        ["Logging:LogLevel:Microsoft.AspNetCore.DataProtection"] = "Error",
        ["Logging:LogLevel:Orleans"] = "Warning",
        // A gateway that went away is expected here (silos restart); Orleans says so at Warning on every retry.
        ["Logging:LogLevel:Orleans.Messaging"] = "Error",
        ["Logging:LogLevel:Orleans.Runtime.Messaging"] = "Error",
        ["Logging:LogLevel:OrleansGateway"] = "Information",
        ["Logging:LogLevel:Polly"] = "Warning",
    };
}
