using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;
using Orleans.TestingHost;
using OrleansGateway.Telemetry;
using OrleansGateway.Tests.Infrastructure;

namespace OrleansGateway.Tests.Telemetry;

/// <summary>
/// The ledger's gauges (sessions by phase, stale markers) come from one silo of the cluster: counted by every silo they
/// would be multiplied in every sum, and the table counted once per silo per period.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class ClusterGaugesTests(PostgresFixture postgres)
{
    [Fact]
    public async Task Only_the_oldest_silo_publishes_the_cluster_gauges()
    {
        var cluster = await GatewayTestCluster.StartAsync(await postgres.CreateMigratedDatabaseAsync("gauges"), silos: 2);
        await using var _ = cluster;
        var silos = cluster.GetActiveSilos().OfType<InProcessSiloHandle>().ToList();
        var gauges = silos.Select(silo => silo.SiloHost.Services.GetRequiredService<ClusterGauges>()).ToList();
        var meters = silos.Select(silo => silo.SiloHost.Services.GetRequiredService<GatewayMetrics>().Meter).ToList();
        await Eventually.UntilAsync(() => Task.FromResult(gauges.Count(gauge => gauge.IsPublisher) == 1), TimeSpan.FromSeconds(15),
            () => $"publishers: {gauges.Count(gauge => gauge.IsPublisher)} of {gauges.Count}");
        foreach (var gauge in gauges)
        {
            await gauge.RefreshAsync(CancellationToken.None);
        }

        var series = SeriesPerSilo(meters);

        // Every phase and the stale count from the oldest silo, nothing from the other. (Which one that is, the test does
        // not say: silos started within the same second share a generation, and their addresses decide.)
        var publisher = gauges.FindIndex(gauge => gauge.IsPublisher);
        Assert.Equal(Enum.GetValues<OrleansGateway.Sessions.SessionPhase>().Length + 1, series[publisher]);
        Assert.Equal(0, series[1 - publisher]);
    }

    /// <summary>How many series of the cluster gauges each silo's meter reports in one collection.</summary>
    private static int[] SeriesPerSilo(IReadOnlyList<Meter> meters)
    {
        var series = new int[meters.Count];
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, subscriber) =>
        {
            if (meters.Contains(instrument.Meter) && instrument.Name is ClusterGauges.SessionsByPhase or ClusterGauges.StaleMarkers)
            {
                subscriber.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((instrument, _, _, _) => series[meters.ToList().IndexOf(instrument.Meter)]++);
        listener.Start();
        listener.RecordObservableInstruments();
        return series;
    }
}
