using System.Diagnostics;
using OrleansGateway.Cli.Commands;
using OrleansGateway.Cli.Operator;
using OrleansGateway.LocalCluster;
using OrleansGateway.Operations;
using Spectre.Console;

namespace OrleansGateway.Cli.Demo;

/// <summary>One silo of the demo: where its HTTP API answers and which Orleans port identifies it in the ledger.</summary>
public sealed record DemoSilo(string Name, Uri BaseAddress, int SiloPort);

/// <summary>
/// The cluster a rolling-restart demo restarts, silo by silo: a cluster of its own, whose processes it signals, or
/// the running cluster of <c>ogw up</c>, which it restarts the way an operator does, through the dashboard.
/// </summary>
public abstract class DemoCluster : IAsyncDisposable
{
    public abstract string ConnectionString { get; }

    public abstract IReadOnlyList<DemoSilo> Silos { get; }

    /// <summary>What a stop is called on the board: "SIGTERM", or "restart request".</summary>
    public abstract string StopName { get; }

    /// <summary>Starts the graceful stop of silo <paramref name="index"/>.</summary>
    public abstract Task RequestStopAsync(int index, CancellationToken stop);

    /// <summary>SIGKILL, when this cluster's processes are the demo's own; false when it cannot.</summary>
    public abstract bool TryKill(int index);

    /// <summary>True when silo <paramref name="index"/> has left within <paramref name="timeout"/>.</summary>
    public abstract Task<bool> WaitForExitAsync(int index, TimeSpan timeout, CancellationToken stop);

    /// <summary>How the stopped silo ended, as its exit code says, when the demo can see it.</summary>
    public abstract string DescribeExit(int index);

    /// <summary>Returns when silo <paramref name="index"/> is back and ready.</summary>
    public abstract Task StartAgainAsync(int index, CancellationToken stop);

    public Table SiloTable()
    {
        var table = new Table().AddColumns("Silo", "HTTP", "Silo port");
        foreach (var silo in Silos)
        {
            table.AddRow(silo.Name, silo.BaseAddress.ToString(), silo.SiloPort.ToString());
        }

        return table;
    }

    public abstract ValueTask DisposeAsync();
}

/// <summary>A cluster the demo starts, signals (SIGTERM, SIGKILL) and starts again itself, or replaces silo by silo.</summary>
public sealed class OwnDemoCluster(LocalClusterHost host) : DemoCluster
{
    private readonly Dictionary<int, SiloProcess> _successors = [];

    public override string ConnectionString => host.ConnectionString;

    public override IReadOnlyList<DemoSilo> Silos => [.. host.Silos.Select(ToDemoSilo)];

    /// <summary>Starts a silo of this build beside silo <paramref name="index"/> (a rolling upgrade's surge); returns once it is ready.</summary>
    public async Task<DemoSilo> StartSuccessorAsync(int index, CancellationToken stop)
    {
        var successor = await host.StartSuccessorAsync(index, stop);
        _successors[index] = successor;
        return ToDemoSilo(successor);
    }

    /// <summary>Once silo <paramref name="index"/> has exited, the successor started beside it takes its index.</summary>
    public async Task ReplaceWithSuccessorAsync(int index)
    {
        await host.ReplaceWithSuccessorAsync(index, _successors[index]);
        _successors.Remove(index);
    }

    public override string StopName => "SIGTERM";

    public override Task RequestStopAsync(int index, CancellationToken stop)
    {
        host.Silos[index].Terminate();
        return Task.CompletedTask;
    }

    public override bool TryKill(int index)
    {
        host.Silos[index].Kill();
        return true;
    }

    public override Task<bool> WaitForExitAsync(int index, TimeSpan timeout, CancellationToken stop) => host.Silos[index].WaitForExitAsync(timeout, stop);

    public override string DescribeExit(int index) => $"exited with code {host.Silos[index].ExitCode}";

    public override Task StartAgainAsync(int index, CancellationToken stop) => host.RestartSiloAsync(index, stop);

    public override ValueTask DisposeAsync() => host.DisposeAsync();

    private static DemoSilo ToDemoSilo(SiloProcess silo) => new(silo.Settings.Name, silo.BaseAddress, silo.Settings.SiloPort);
}

/// <summary>
/// The running cluster of <c>ogw up</c>: each silo is restarted through the dashboard's operator API (it premarks,
/// drains and exits with the restart code), and <c>ogw up</c>, its supervisor, starts it again. Silos are found
/// by their ports, as <c>ogw up</c> numbers them.
/// </summary>
public sealed class AttachedDemoCluster : DemoCluster
{
    private static readonly TimeSpan Poll = TimeSpan.FromMilliseconds(200);
    private readonly OperatorApiClient _api;
    private readonly Dictionary<int, string> _stopped = [];
    private readonly HttpClient _probe = new() { Timeout = TimeSpan.FromSeconds(2) };

    private AttachedDemoCluster(OperatorApiClient api, string connectionString, IReadOnlyList<DemoSilo> silos)
    {
        _api = api;
        ConnectionString = connectionString;
        Silos = silos;
    }

    public override string ConnectionString { get; }

    public override IReadOnlyList<DemoSilo> Silos { get; }

    public override string StopName => "restart request";

    /// <summary>Finds an Active silo on each of <paramref name="silos"/> consecutive ports from <paramref name="first"/>.</summary>
    public static async Task<AttachedDemoCluster> ConnectAsync(OperatorApiClient api, ClusterPorts first, int silos, string connectionString, CancellationToken stop)
    {
        var active = (await api.GetSilosAsync(stop)).Value.Where(silo => silo.Status == SiloStatuses.Active).ToList();
        var found = new List<DemoSilo>();
        for (var i = 0; i < silos; i++)
        {
            var siloPort = first.Silo + i;
            if (!active.Any(silo => PortOf(silo.Address) == siloPort))
            {
                throw new CliError($"no Active silo on port {siloPort} at {api.BaseUrl}: is `ogw up` running with --silos {silos} and these ports?");
            }

            found.Add(new DemoSilo($"silo{i + 1}", new Uri($"http://127.0.0.1:{first.Http + i}/"), siloPort));
        }

        return new AttachedDemoCluster(api, connectionString, found);
    }

    public override async Task RequestStopAsync(int index, CancellationToken stop)
    {
        var address = await ActiveAddressAsync(Silos[index].SiloPort, stop)
            ?? throw new CliError($"{Silos[index].Name} (port {Silos[index].SiloPort}) is not Active");
        _stopped[index] = address;
        await _api.ChangeSiloAsync(address, SiloAction.Restart, stop);
    }

    public override bool TryKill(int index) => false;

    public override async Task<bool> WaitForExitAsync(int index, TimeSpan timeout, CancellationToken stop)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < timeout)
        {
            // Gone: the membership table says Dead, or the silo is no longer listed.
            var silos = (await _api.GetSilosAsync(stop)).Value;
            if (silos.FirstOrDefault(silo => silo.Address == _stopped[index]) is not { Status: not SiloStatuses.Dead })
            {
                return true;
            }

            await Task.Delay(Poll, stop);
        }

        return false;
    }

    public override string DescribeExit(int index) => "left the cluster";

    public override async Task StartAgainAsync(int index, CancellationToken stop)
    {
        var silo = Silos[index];
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < LocalClusterHost.ReadyTimeout)
        {
            if (await ActiveAddressAsync(silo.SiloPort, stop) is { } address && address != _stopped[index] && await IsReadyAsync(silo, stop))
            {
                return;
            }

            await Task.Delay(Poll, stop);
        }

        throw new CliError($"{silo.Name} did not come back within {Durations.Format(LocalClusterHost.ReadyTimeout)}: is `ogw up` still running?");
    }

    public override ValueTask DisposeAsync()
    {
        _probe.Dispose();
        _api.Dispose();
        return ValueTask.CompletedTask;
    }

    private async Task<string?> ActiveAddressAsync(int siloPort, CancellationToken stop) =>
        (await _api.GetSilosAsync(stop)).Value.FirstOrDefault(silo => silo.Status == SiloStatuses.Active && PortOf(silo.Address) == siloPort)?.Address;

    private async Task<bool> IsReadyAsync(DemoSilo silo, CancellationToken stop)
    {
        try
        {
            using var response = await _probe.GetAsync(new Uri(silo.BaseAddress, "readyz"), stop);
            return response.IsSuccessStatusCode;
        }
        catch (Exception exception) when (exception is HttpRequestException or TaskCanceledException && !stop.IsCancellationRequested)
        {
            return false;
        }
    }

    // "10.0.0.5:11111@154855883" → 11111
    internal static int? PortOf(string address)
    {
        var colon = address.LastIndexOf(':');
        var at = address.IndexOf('@', StringComparison.Ordinal);
        return colon > 0 && at > colon && int.TryParse(address.AsSpan(colon + 1, at - colon - 1), out var port) ? port : null;
    }
}
