using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Npgsql;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace OrleansGateway.ServiceDefaults.Telemetry;

public static class GatewayTelemetryExtensions
{
    /// <summary>
    /// The OpenTelemetry wiring every deployable shares: the gateway's, Orleans', Npgsql's, ASP.NET Core's, HttpClient's
    /// and the runtime's metrics and spans; a Prometheus scraping endpoint (<see cref="MapGatewayMetrics"/>); and the OTLP
    /// exporter, configured by the standard <c>OTEL_*</c> variables, only when <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> is set
    /// (without a collector it would retry and log every export). Spans are recorded only then.
    /// </summary>
    /// <param name="serviceName">service.name unless <c>OTEL_SERVICE_NAME</c> says otherwise.</param>
    public static TBuilder AddGatewayTelemetry<TBuilder>(this TBuilder builder, string serviceName) where TBuilder : IHostApplicationBuilder
    {
        var telemetry = builder.Services.AddOpenTelemetry()
            .ConfigureResource(resource =>
            {
                // The SDK's default resource already reads OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES; ours is the fallback.
                if (string.IsNullOrWhiteSpace(builder.Configuration["OTEL_SERVICE_NAME"]))
                {
                    resource.AddService(serviceName, serviceInstanceId: Environment.MachineName + ":" + Environment.ProcessId);
                }
            })
            .WithMetrics(metrics => metrics
                .AddMeter(GatewayTelemetry.Name, GatewayTelemetry.OrleansMeter)
                .AddAspNetCoreInstrumentation()
                .AddHttpClientInstrumentation()
                .AddRuntimeInstrumentation()
                .AddNpgsqlInstrumentation()
                .AddPrometheusExporter());
        if (!string.IsNullOrWhiteSpace(builder.Configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]))
        {
            // Only with somewhere to send them: recorded spans (a request's, its grain calls', each statement's) cost every
            // message CPU, about 5% of a silo's under load, for nothing when no exporter reads them.
            telemetry.WithTracing(tracing => tracing
                    .AddSource(GatewayTelemetry.Name, GatewayTelemetry.OrleansSources)
                    // Probes and scrapes every few seconds would drown the traces that matter.
                    .AddAspNetCoreInstrumentation(options => options.Filter = context => !IsProbeOrScrape(context.Request.Path))
                    .AddHttpClientInstrumentation()
                    .AddNpgsql())
                .UseOtlpExporter();
        }

        return builder;
    }

    /// <summary>
    /// <c>GET /metrics</c> in Prometheus' text format, without authentication: it holds counts and durations, never a
    /// session's id or content, and a scraper has no operator token.
    /// </summary>
    public static IEndpointConventionBuilder MapGatewayMetrics(this IEndpointRouteBuilder endpoints) =>
        endpoints.MapPrometheusScrapingEndpoint(GatewayTelemetry.MetricsPath).AllowAnonymous();

    private static bool IsProbeOrScrape(Microsoft.AspNetCore.Http.PathString path) =>
        path.StartsWithSegments(GatewayTelemetry.MetricsPath) || path.StartsWithSegments("/healthz") || path.StartsWithSegments("/readyz");
}
