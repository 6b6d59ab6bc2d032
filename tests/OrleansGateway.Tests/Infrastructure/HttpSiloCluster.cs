using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Orleans.Configuration;
using Orleans.Hosting;
using OrleansGateway.Hosting;
using OrleansGateway.Http;
using OrleansGateway.ServiceDefaults.Telemetry;
using OrleansGateway.ServiceDefaults;

namespace OrleansGateway.Tests.Infrastructure;

/// <summary>
/// Silos in this process with their HTTP API, wired as the silo program wires itself (Orleans on PostgreSQL through
/// <see cref="GatewaySiloBuilderExtensions.AddOrleansGateway"/>, the session API): for HTTP tests that look inside a silo
/// (its services), which <see cref="SiloProcessCluster"/> cannot, and start faster than processes.
/// </summary>
public sealed class HttpSiloCluster : IAsyncDisposable
{
    /// <summary>Setting that wires the programs' OpenTelemetry (AddGatewayTelemetry, <c>/metrics</c>) into every silo.</summary>
    public const string TelemetryKey = "Test:Telemetry";

    private readonly List<WebApplication> _silos = [];
    private readonly HashSet<int> _stopped = [];
    private readonly string _clusterId = $"http-{Guid.NewGuid():N}"[..16];

    private HttpSiloCluster(string connectionString) => ConnectionString = connectionString;

    public string ConnectionString { get; }

    /// <summary>For a dashboard of this cluster.</summary>
    public string ClusterId => _clusterId;

    public IReadOnlyList<Uri> Addresses => [.. _silos.Select(silo => new Uri(silo.Urls.Single() + "/"))];

    /// <param name="logs">Where the silos' log goes, for tests that read it; nowhere without it.</param>
    public static async Task<HttpSiloCluster> StartAsync(string connectionString, int silos, IReadOnlyDictionary<string, string?>? settings = null,
        ILoggerProvider? logs = null)
    {
        var cluster = new HttpSiloCluster(connectionString);
        try
        {
            for (var i = 0; i < silos; i++)
            {
                await cluster.StartSiloAsync(connectionString, settings, logs);
            }
        }
        catch
        {
            await cluster.DisposeAsync();
            throw;
        }

        return cluster;
    }

    public T Service<T>(int silo) where T : notnull => _silos[silo].Services.GetRequiredService<T>();

    /// <summary>Stops one silo gracefully, as SIGTERM does; its address stays in <see cref="Addresses"/>, answering nothing.</summary>
    public async Task StopSiloAsync(int silo)
    {
        await _silos[silo].StopAsync();
        _stopped.Add(silo);
    }

    public HttpClient ClientFor(int silo) => new() { BaseAddress = Addresses[silo], Timeout = TimeSpan.FromSeconds(30) };

    public async ValueTask DisposeAsync()
    {
        // The newest first: the first silo holds the cluster together while the others leave.
        foreach (var (silo, index) in Enumerable.Reverse(_silos.Select((silo, index) => (silo, index))))
        {
            if (!_stopped.Contains(index))
            {
                await silo.StopAsync();
            }

            await silo.DisposeAsync();
        }
    }

    private async Task StartSiloAsync(string connectionString, IReadOnlyDictionary<string, string?>? settings, ILoggerProvider? logs)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { ContentRootPath = Path.GetTempPath() });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?> { ["Gateway:OrleansDashboard"] = "false" });
        if (settings is not null)
        {
            builder.Configuration.AddInMemoryCollection(settings);
        }

        // Quiet unless asked: the silos' debug log to the console is what to read when one of these tests hangs.
        builder.Logging.ClearProviders();
        if (logs is not null)
        {
            builder.Logging.AddProvider(logs).SetMinimumLevel(LogLevel.Debug);
        }

        if (Environment.GetEnvironmentVariable("OGW_TEST_SILO_CONSOLE") is { Length: > 0 })
        {
            builder.Logging.AddSimpleConsole().SetMinimumLevel(LogLevel.Debug);
        }

        builder.WebHost.UseUrls($"http://127.0.0.1:{PostgresFixture.FreeTcpPort()}");
        builder.Services.AddHostedService<SiloStopsBeforeHttp>();
        var telemetry = builder.Configuration.GetValue<bool>(TelemetryKey);
        if (telemetry)
        {
            builder.AddGatewayTelemetry("ogw-silo");
        }

        builder.Services.AddSessionApi();
        builder.Services.AddSiloHealthChecks();
        builder.UseOrleans(silo =>
        {
            silo.Configure<ClusterOptions>(options => (options.ClusterId, options.ServiceId) = (_clusterId, "orleans-gateway"));
            silo.ConfigureEndpoints(IPAddress.Loopback, PostgresFixture.FreeTcpPort(), PostgresFixture.FreeTcpPort());
            silo.AddOrleansGateway(connectionString);
        });
        var app = builder.Build();
        app.UseSessionApi();
        if (telemetry)
        {
            app.MapGatewayMetrics();
        }

        app.MapApiDocument();
        _silos.Add(app);
        await app.StartAsync();
    }
}
