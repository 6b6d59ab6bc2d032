using Microsoft.Extensions.DependencyInjection;
using OrleansGateway.Telemetry;

namespace Orleans.Hosting;

public static class GatewayTelemetrySiloBuilderExtensions
{
    /// <summary>
    /// The silo's instruments (<see cref="GatewayMetrics"/>), the cluster's gauges on one silo (<see cref="ClusterGauges"/>)
    /// and Orleans' trace context across grain calls, without which an accept's span would not join its HTTP request's
    /// trace. Exporting them is the host's business (AddGatewayTelemetry in the programs).
    /// </summary>
    public static ISiloBuilder AddGatewayMetrics(this ISiloBuilder builder)
    {
        builder.Services.AddMetrics();
        builder.Services.AddSingleton<GatewayMetrics>();
        builder.Services.AddSingleton<ClusterGauges>();
        builder.Services.AddSingleton<ILifecycleParticipant<ISiloLifecycle>>(services => services.GetRequiredService<ClusterGauges>());
        builder.AddActivityPropagation();
        return builder;
    }
}
