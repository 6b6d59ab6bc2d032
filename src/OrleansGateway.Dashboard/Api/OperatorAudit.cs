using System.Security.Claims;
using Npgsql;
using OrleansGateway.Storage;

namespace OrleansGateway.Dashboard.Api;

/// <summary>
/// The audit trail of operator actions: every POST of the operator API, done or refused, becomes an
/// <see cref="EventKinds.OperatorAction"/> event with the token's name as its actor and <c>"&lt;action&gt;: &lt;result&gt;"</c>
/// as its detail.
/// </summary>
public sealed partial class OperatorAudit(EventHistory events, ILogger<OperatorAudit> logger)
{
    public async Task RecordAsync(ClaimsPrincipal operatorUser, string action, string? sessionId, string? silo, string result)
    {
        var actor = operatorUser.Identity?.Name ?? "anonymous";
        LogAction(actor, action, sessionId ?? silo ?? "", result);
        try
        {
            await events.AppendAsync(EventKinds.OperatorAction, sessionId, silo, actor, $"{action}: {result}");
        }
        catch (Exception exception) when (exception is NpgsqlException or TimeoutException)
        {
            // The action itself already happened (or was refused); its answer must still reach the operator.
            LogAuditFailed(exception, actor, action);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "{Actor}: {Action} {Target}: {Result}")]
    private partial void LogAction(string actor, string action, string target, string result);

    [LoggerMessage(Level = LogLevel.Error, Message = "Could not write the audit event of {Actor}'s {Action}")]
    private partial void LogAuditFailed(Exception exception, string actor, string action);
}
