using OrleansGateway.Storage;
using Spectre.Console;

namespace OrleansGateway.LocalCluster;

/// <summary>
/// A whole cluster on this machine, as <c>ogw up</c> and <c>ogw demo</c> run it: PostgreSQL (embedded unless
/// <c>ConnectionStrings__Postgres</c> names a server), the schema, and the silos, each in a process of its own.
/// Disposing it stops everything gracefully: the silos first (they drain into the database), then the database.
/// </summary>
public sealed partial class LocalClusterHost : IAsyncDisposable
{
    /// <summary>
    /// Failure detection for demos and tests: a silo that stopped answering is suspected after ~2 s and one whose
    /// heartbeat in the membership table is ~4 s old no longer blocks a joining silo. Orleans' defaults
    /// (5 s probes x 3, 30 s heartbeats) make every killed silo a minute-long wait.
    /// </summary>
    /// <remarks>
    /// The distributed grain directory holds a dead silo's grains under a lease of <c>RangeLeaseDuration</c> minus the
    /// failure-detection window (here 4 x ProbeTimeout x NumMissedProbesLimit = 8 s), so that no grain is activated again
    /// while the silo might still run it. With Orleans' default detection (60 s) its default lease of 30 s is void; with
    /// the detection above it would hold a crashed silo's sessions for 22 s. 10 s keeps the same margin, 2 s.
    /// </remarks>
    public static readonly IReadOnlyDictionary<string, string> FastFailureDetection = new Dictionary<string, string>
    {
        ["Orleans__Membership__ProbeTimeout"] = "00:00:01",
        ["Orleans__Membership__NumMissedProbesLimit"] = "2",
        ["Orleans__Membership__IAmAliveTablePublishTimeout"] = "00:00:02",
        ["Orleans__Membership__NumMissedTableIAmAliveLimit"] = "2",
        ["Orleans__Membership__TableRefreshTimeout"] = "00:00:02",
        ["Orleans__Membership__DeathVoteExpirationTimeout"] = "00:00:10",
        ["Orleans__Directory__RangeLeaseDuration"] = "00:00:10",
    };

    /// <summary>How long a silo process may take to answer <c>/readyz</c> (a loaded laptop builds caches slowly).</summary>
    public static readonly TimeSpan ReadyTimeout = TimeSpan.FromSeconds(120);

    private readonly EmbeddedPostgres? _embedded;
    private readonly List<SiloProcess> _silos = [];
    private readonly List<SiloProcess> _successors = [];
    private DashboardProcess? _dashboard;
    private bool _stopped;

    private LocalClusterHost(LocalClusterSpec spec, EmbeddedPostgres? embedded, string connectionString)
    {
        Spec = spec;
        _embedded = embedded;
        ConnectionString = connectionString;
    }

    public LocalClusterSpec Spec { get; }

    public string ConnectionString { get; private set; }

    /// <summary>The silo processes, by index; a restarted silo replaces its predecessor at the same index.</summary>
    public IReadOnlyList<SiloProcess> Silos => _silos;

    /// <summary>The dashboard process, when <see cref="LocalClusterSpec.Dashboard"/> asked for one.</summary>
    public DashboardProcess? Dashboard => _dashboard;

    /// <summary>Starts the database, migrates it, starts every silo and waits until all are ready.</summary>
    public static async Task<LocalClusterHost> StartAsync(LocalClusterSpec spec, CancellationToken cancellationToken)
    {
        spec.Validate();
        var connectionString = LocalClusterEnvironment.ResolveConnectionString(null);
        var embedded = LocalClusterEnvironment.ConfiguredConnectionString is null ? await StartEmbeddedPostgresAsync(cancellationToken) : null;
        var host = new LocalClusterHost(spec, embedded, connectionString);
        try
        {
            if (embedded is not null && spec.EmbeddedDatabase is { } database)
            {
                host.ConnectionString = await LocalClusterEnvironment.RecreateDatabaseAsync(connectionString, database, cancellationToken);
            }

            await host.StartAsync(cancellationToken);
            return host;
        }
        catch
        {
            await host.DisposeAsync();
            throw;
        }
    }

    /// <summary>
    /// Starts silo <paramref name="index"/> again, on the same ports and log file, once its process has ended
    /// (SIGTERM or SIGKILL it first); returns when the new process is ready.
    /// </summary>
    public async Task<SiloProcess> RestartSiloAsync(int index, CancellationToken cancellationToken)
    {
        var previous = _silos[index];
        await previous.DisposeAsync();
        var restarted = SiloProcess.Start(previous.Settings);
        _silos[index] = restarted;
        await WaitUntilReadyAsync([restarted], cancellationToken);
        return restarted;
    }

    /// <summary>
    /// The surge of a rolling upgrade: starts the successor of silo <paramref name="index"/>, a silo of this build on
    /// the ports after the first silos', and returns once it is ready. Silo <paramref name="index"/> runs on until
    /// <see cref="ReplaceWithSuccessorAsync"/>.
    /// </summary>
    public async Task<SiloProcess> StartSuccessorAsync(int index, CancellationToken cancellationToken)
    {
        if (index < 0 || index >= Spec.Successors)
        {
            throw new ArgumentOutOfRangeException(nameof(index), index, $"the cluster has room for {Spec.Successors} successors");
        }

        var successor = SiloProcess.Start(SiloSettings(Spec.Silos + index, BuiltProgram.Silo));
        _successors.Add(successor);
        await WaitUntilReadyAsync([successor], cancellationToken);
        return successor;
    }

    /// <summary>Once silo <paramref name="index"/> has exited, its successor takes its place.</summary>
    public async Task ReplaceWithSuccessorAsync(int index, SiloProcess successor)
    {
        await _silos[index].DisposeAsync();
        _silos[index] = successor;
        _successors.Remove(successor);
    }

    /// <summary>
    /// Starts the dashboard again, on the same port, with the same tokens and log file, once its process has ended;
    /// returns when it serves (connected to a silo or not: the silos may be restarting too).
    /// </summary>
    public async Task<DashboardProcess> RestartDashboardAsync(CancellationToken cancellationToken)
    {
        var previous = _dashboard ?? throw new InvalidOperationException("this cluster has no dashboard");
        await previous.DisposeAsync();
        _dashboard = DashboardProcess.Start(previous.Settings);
        try
        {
            await _dashboard.WaitUntilServingAsync(ReadyTimeout, cancellationToken);
        }
        catch (Exception exception) when (exception is InvalidOperationException or TimeoutException)
        {
            throw new LocalClusterException(exception.Message);
        }

        return _dashboard;
    }

    /// <summary>The silos with their endpoints, for people to copy from.</summary>
    public Table SiloTable()
    {
        var table = new Table().AddColumns("Silo", "HTTP", "Silo port", "Gateway port");
        foreach (var silo in _silos)
        {
            table.AddRow(silo.Settings.Name, silo.BaseAddress.ToString(), silo.Settings.SiloPort.ToString(), silo.Settings.GatewayPort.ToString());
        }

        return table;
    }

    public async ValueTask DisposeAsync()
    {
        if (_stopped)
        {
            return;
        }

        _stopped = true;
        if (_dashboard is not null)
        {
            // First, so that it does not report the silos' stop as errors while they drain.
            AnsiConsole.MarkupLine("Stopping the dashboard...");
            await _dashboard.StopAsync(TimeSpan.FromSeconds(15));
            await _dashboard.DisposeAsync();
        }

        List<SiloProcess> silos = [.. _silos, .. _successors];
        if (silos.Count > 0)
        {
            AnsiConsole.MarkupLine("Stopping silos...");
            await Task.WhenAll(silos.Select(silo => silo.StopAsync(Spec.StopGrace)));
            foreach (var silo in silos)
            {
                await silo.DisposeAsync();
            }
        }

        if (_embedded is { } embedded)
        {
            if (embedded.Stops)
            {
                AnsiConsole.MarkupLine("Stopping PostgreSQL...");
            }

            await embedded.Server.DisposeAsync();
            embedded.Owner?.Dispose();
        }
    }

    private async Task StartAsync(CancellationToken cancellationToken)
    {
        AnsiConsole.MarkupLine($"PostgreSQL: [bold]{Markup.Escape(ClusterDatabase.Describe(ConnectionString))}[/]" + _embedded switch
        {
            null => "",
            { Stops: false } e => $" (embedded, data in {Markup.Escape(e.Server.DataDirectory)}; run by another ogw, which stops it: left running on exit)",
            { Server.Adopted: true } e => $" (embedded, data in {Markup.Escape(e.Server.DataDirectory)}; adopted the server left running there, " +
                "e.g. by a killed ogw: stopped on exit)",
            var e => $" (embedded, data in {Markup.Escape(e.Server.DataDirectory)})",
        });
        var migration = await ClusterDatabase.MigrateAsync(ConnectionString, Spec.SchemaVersion, cancellationToken);
        AnsiConsole.MarkupLine($"Schema: version {migration.ToVersion}{(migration.Applied.Count > 0 ? $" ({migration.Applied.Count} scripts applied)" : "")}");
        if (Spec.SchemaVersion is { } wanted && migration.ToVersion != wanted)
        {
            throw new LocalClusterException($"{ClusterDatabase.Describe(ConnectionString)} is at schema {migration.ToVersion}, past the {wanted} its silos need: " +
                "point ConnectionStrings__Postgres at an empty database");
        }

        for (var i = 0; i < Spec.Silos; i++)
        {
            _silos.Add(SiloProcess.Start(SiloSettings(i, Spec.SiloAssembly ?? BuiltProgram.Silo)));
        }

        AnsiConsole.MarkupLine($"Starting {Spec.Silos} silos (logs in {Markup.Escape(LocalClusterEnvironment.LogDirectory)})...");
        await WaitUntilReadyAsync(_silos, cancellationToken);

        if (Spec.Dashboard is { } dashboard)
        {
            AnsiConsole.MarkupLine("Starting the dashboard...");
            _dashboard = DashboardProcess.Start(new DashboardProcessSettings(ConnectionString, LocalClusterEnvironment.ClusterId, dashboard.Port,
                Path.Combine(LocalClusterEnvironment.LogDirectory, "dashboard.log"))
            {
                OperatorToken = dashboard.OperatorToken,
            });
            try
            {
                await _dashboard.WaitUntilReadyAsync(ReadyTimeout, cancellationToken);
            }
            catch (Exception exception) when (exception is InvalidOperationException or TimeoutException)
            {
                throw new LocalClusterException(exception.Message);
            }
        }
    }

    /// <summary>Silo <c>slot + 1</c>: its name, log and ports count up from the first silo's.</summary>
    private SiloProcessSettings SiloSettings(int slot, string siloAssembly) => new(
        Name: $"silo{slot + 1}",
        ConnectionString: ConnectionString,
        ClusterId: LocalClusterEnvironment.ClusterId,
        HttpPort: Spec.FirstPorts.Http + slot,
        SiloPort: Spec.FirstPorts.Silo + slot,
        GatewayPort: Spec.FirstPorts.Gateway + slot,
        LogFile: Path.Combine(LocalClusterEnvironment.LogDirectory, $"silo{slot + 1}.log"))
    {
        Environment = Spec.SiloEnvironment,
        SiloAssembly = siloAssembly,
    };

    private static async Task WaitUntilReadyAsync(IEnumerable<SiloProcess> silos, CancellationToken cancellationToken)
    {
        try
        {
            await Task.WhenAll(silos.Select(silo => silo.WaitUntilReadyAsync(ReadyTimeout, cancellationToken)));
        }
        catch (Exception exception) when (exception is InvalidOperationException or TimeoutException)
        {
            throw new LocalClusterException(exception.Message);
        }
    }
}
