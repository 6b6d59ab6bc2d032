using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Npgsql;

namespace OrleansGateway.ServiceDefaults;

/// <summary>
/// <c>/healthz</c> and <c>/readyz</c> of the silo and the dashboard, on ASP.NET Core's health checks. Liveness runs no
/// check: restarting a process that answers HTTP fixes nothing a readiness failure describes. Readiness runs every
/// check tagged <see cref="ReadyTag"/>, the database's among them.
/// </summary>
public static class HealthProbes
{
    public const string LivenessPath = "/healthz";

    public const string ReadinessPath = "/readyz";

    public const string ReadyTag = "ready";

    /// <summary>The health checks with the database's; each process adds its own readiness check after it.</summary>
    public static IHealthChecksBuilder AddGatewayHealthChecks(this IServiceCollection services) =>
        services.AddHealthChecks().AddCheck<DatabaseHealthCheck>("database", tags: [ReadyTag]);

    /// <summary>
    /// Maps both probes. The bodies stay what they were before the health checks: <c>ok</c>, <c>ready</c>, and on
    /// 503 <c>{"error": "..."}</c> with every failing check's reason, in the order the checks were added.
    /// </summary>
    public static IReadOnlyList<IEndpointConventionBuilder> MapGatewayHealthChecks(this IEndpointRouteBuilder endpoints) =>
    [
        endpoints.MapHealthChecks(LivenessPath, new HealthCheckOptions { Predicate = _ => false, ResponseWriter = (context, _) => WriteText(context, "ok") }),
        endpoints.MapHealthChecks(ReadinessPath, new HealthCheckOptions { Predicate = check => check.Tags.Contains(ReadyTag), ResponseWriter = WriteReadiness }),
    ];

    private static Task WriteReadiness(HttpContext context, HealthReport report)
    {
        if (report.Status != HealthStatus.Unhealthy)
        {
            return WriteText(context, "ready");
        }

        var reasons = report.Entries.Values.Where(entry => entry.Status == HealthStatus.Unhealthy).Select(entry => entry.Description ?? "unhealthy");
        context.Response.ContentType = "application/json; charset=utf-8";
        return context.Response.WriteAsync(JsonSerializer.Serialize(new Dictionary<string, string> { ["error"] = string.Join("; ", reasons) }));
    }

    private static Task WriteText(HttpContext context, string text)
    {
        context.Response.ContentType = "text/plain; charset=utf-8";
        return context.Response.WriteAsync(text);
    }
}

/// <summary>
/// Whether the database answers a trivial query within <see cref="Timeout"/>. Short, because a probe that hangs is as
/// good as a failed one to Kubernetes, and the probe's own timeout would then report nothing useful.
/// </summary>
public sealed class DatabaseHealthCheck(NpgsqlDataSource dataSource) : IHealthCheck
{
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(2);

    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(Timeout);
        try
        {
            await using var command = dataSource.CreateCommand("SELECT 1");
            await command.ExecuteScalarAsync(timeout.Token);
            return HealthCheckResult.Healthy();
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return HealthCheckResult.Unhealthy($"the database did not answer within {Timeout.TotalSeconds:0} s");
        }
        catch (Exception exception) when (exception is NpgsqlException or TimeoutException)
        {
            return HealthCheckResult.Unhealthy($"the database does not answer: {exception.GetBaseException().Message}");
        }
    }
}
