using OrleansGateway.Cli.Commands;
using OrleansGateway.Storage;
using Spectre.Console;

namespace OrleansGateway.Cli.Cluster;

/// <summary>Ports of the first silo of a local cluster; the next silos count up from them.</summary>
public sealed record ClusterPorts(int Http, int Silo, int Gateway)
{
    public static readonly ClusterPorts Default = new(8081, 11111, 30000);
}

/// <summary>What a local cluster is made of: how many silos, on which ports, with which extra settings.</summary>
public sealed record LocalClusterSpec(int Silos, ClusterPorts FirstPorts)
{
    public const int MaxSilos = 20;

    /// <summary>More silo configuration, as <c>Section__Key</c> environment variables, for every silo.</summary>
    public IReadOnlyDictionary<string, string> SiloEnvironment { get; init; } = new Dictionary<string, string>();

    /// <summary>How long a silo may take to stop gracefully (it drains running turns) before it is killed.</summary>
    public TimeSpan StopGrace { get; init; } = TimeSpan.FromSeconds(90);

    /// <summary>The operator dashboard to start once the silos are ready, or null for none.</summary>
    public DashboardSpec? Dashboard { get; init; }

    /// <summary>Throws <see cref="CliError"/> when the silos do not fit the port ranges.</summary>
    public void Validate()
    {
        if (Silos is < 1 or > MaxSilos)
        {
            throw new CliError($"--silos must be between 1 and {MaxSilos}");
        }

        foreach (var (name, port) in new[] { ("--http-port", FirstPorts.Http), ("--silo-port", FirstPorts.Silo), ("--gateway-port", FirstPorts.Gateway) })
        {
            if (port < 1 || port + Silos - 1 > 65535)
            {
                throw new CliError($"{name} {port} leaves no room for {Silos} silos below port 65536");
            }
        }

        if (Dashboard is { Port: var dashboardPort })
        {
            if (dashboardPort is < 1 or > 65535)
            {
                throw new CliError($"--dashboard-port must be a port number (1-65535), not {dashboardPort}");
            }

            if (dashboardPort >= FirstPorts.Http && dashboardPort < FirstPorts.Http + Silos)
            {
                throw new CliError($"--dashboard-port {dashboardPort} is the HTTP port of a silo ({FirstPorts.Http}-{FirstPorts.Http + Silos - 1})");
            }
        }
    }
}

/// <summary>The operator dashboard of a local cluster: its HTTP port and the token named <c>operator</c>.</summary>
public sealed record DashboardSpec(int Port, string OperatorToken)
{
    public const int DefaultPort = 8080;
}

/// <summary>
/// A whole cluster on this machine, as <c>ogw up</c> and <c>ogw demo</c> run it: PostgreSQL (embedded unless
/// <c>ConnectionStrings__Postgres</c> names a server), the schema, and the silos, each in a process of its own.
/// Disposing it stops everything gracefully: the silos first (they drain into the database), then the database.
/// </summary>
public sealed class LocalClusterHost : IAsyncDisposable
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
    private DashboardProcess? _dashboard;
    private bool _stopped;

    private LocalClusterHost(LocalClusterSpec spec, EmbeddedPostgres? embedded, string connectionString)
    {
        Spec = spec;
        _embedded = embedded;
        ConnectionString = connectionString;
    }

    public LocalClusterSpec Spec { get; }

    public string ConnectionString { get; }

    /// <summary>The silo processes, by index; a restarted silo replaces its predecessor at the same index.</summary>
    public IReadOnlyList<SiloProcess> Silos => _silos;

    /// <summary>The dashboard process, when <see cref="LocalClusterSpec.Dashboard"/> asked for one.</summary>
    public DashboardProcess? Dashboard => _dashboard;

    /// <summary>Starts the database, migrates it, starts every silo and waits until all are ready.</summary>
    public static async Task<LocalClusterHost> StartAsync(LocalClusterSpec spec, CancellationToken cancellationToken)
    {
        spec.Validate();
        var connectionString = LocalCluster.ResolveConnectionString(null);
        var embedded = LocalCluster.ConfiguredConnectionString is null ? await StartEmbeddedPostgresAsync(cancellationToken) : null;
        var host = new LocalClusterHost(spec, embedded, connectionString);
        try
        {
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
            throw new CliError(exception.Message);
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

        if (_silos.Count > 0)
        {
            AnsiConsole.MarkupLine("Stopping silos...");
            await Task.WhenAll(_silos.Select(silo => silo.StopAsync(Spec.StopGrace)));
            foreach (var silo in _silos)
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
        AnsiConsole.MarkupLine($"PostgreSQL: [bold]{Markup.Escape(DbCommands.Describe(ConnectionString))}[/]" + _embedded switch
        {
            null => "",
            { Stops: false } e => $" (embedded, data in {Markup.Escape(e.Server.DataDirectory)}; run by another ogw, which stops it: left running on exit)",
            { Server.Adopted: true } e => $" (embedded, data in {Markup.Escape(e.Server.DataDirectory)}; adopted the server left running there, " +
                "e.g. by a killed ogw: stopped on exit)",
            var e => $" (embedded, data in {Markup.Escape(e.Server.DataDirectory)})",
        });
        var migration = await DbCommands.MigrateAsync(ConnectionString, cancellationToken);
        AnsiConsole.MarkupLine($"Schema: version {migration.ToVersion}{(migration.Applied.Count > 0 ? $" ({migration.Applied.Count} scripts applied)" : "")}");

        for (var i = 0; i < Spec.Silos; i++)
        {
            _silos.Add(SiloProcess.Start(new SiloProcessSettings(
                Name: $"silo{i + 1}",
                ConnectionString: ConnectionString,
                ClusterId: LocalCluster.ClusterId,
                HttpPort: Spec.FirstPorts.Http + i,
                SiloPort: Spec.FirstPorts.Silo + i,
                GatewayPort: Spec.FirstPorts.Gateway + i,
                LogFile: Path.Combine(LocalCluster.LogDirectory, $"silo{i + 1}.log"))
            {
                Environment = Spec.SiloEnvironment,
            }));
        }

        AnsiConsole.MarkupLine($"Starting {Spec.Silos} silos (logs in {Markup.Escape(LocalCluster.LogDirectory)})...");
        await WaitUntilReadyAsync(_silos, cancellationToken);

        if (Spec.Dashboard is { } dashboard)
        {
            AnsiConsole.MarkupLine("Starting the dashboard...");
            _dashboard = DashboardProcess.Start(new DashboardProcessSettings(ConnectionString, LocalCluster.ClusterId, dashboard.Port,
                Path.Combine(LocalCluster.LogDirectory, "dashboard.log"))
            {
                OperatorToken = dashboard.OperatorToken,
            });
            try
            {
                await _dashboard.WaitUntilReadyAsync(ReadyTimeout, cancellationToken);
            }
            catch (Exception exception) when (exception is InvalidOperationException or TimeoutException)
            {
                throw new CliError(exception.Message);
            }
        }
    }

    private static async Task WaitUntilReadyAsync(IEnumerable<SiloProcess> silos, CancellationToken cancellationToken)
    {
        try
        {
            await Task.WhenAll(silos.Select(silo => silo.WaitUntilReadyAsync(ReadyTimeout, cancellationToken)));
        }
        catch (Exception exception) when (exception is InvalidOperationException or TimeoutException)
        {
            throw new CliError(exception.Message);
        }
    }

    /// <summary>
    /// The embedded server and, when this ogw is the one to stop it, the lock that says so (<see cref="LocalCluster.EmbeddedLockFile"/>).
    /// </summary>
    private sealed record EmbeddedPostgres(LocalPostgresServer Server, FileStream? Owner)
    {
        /// <summary>Whether disposing stops the server: one this ogw started or adopted, not another running ogw's.</summary>
        public bool Stops => Owner is not null || !Server.Adopted;
    }

    /// <summary>
    /// Starts the embedded server, or attaches to the one already running on its data folder. An ogw holds a lock
    /// while it owns the server (it stops it on exit); a running server with no such lock held was left behind by an
    /// ogw that was killed, and this one adopts it, stopping it on exit too. With the lock held by a running ogw, the
    /// server is that one's to stop.
    /// </summary>
    private static async Task<EmbeddedPostgres> StartEmbeddedPostgresAsync(CancellationToken cancellationToken)
    {
        var owner = TryLock(LocalCluster.EmbeddedLockFile);
        try
        {
            LocalPostgresServer server;
            try
            {
                server = await LocalPostgresServer.StartAsync(LocalCluster.PostgresDataDirectory, LocalCluster.EmbeddedPostgresPort,
                    throwaway: false, cancellationToken);
            }
            catch (InvalidOperationException exception)
            {
                throw new CliError($"cannot start the embedded PostgreSQL: {exception.Message}");
            }

            if (owner is not null && server.Adopted)
            {
                server.StopOnDispose();
            }

            return new EmbeddedPostgres(server, owner);
        }
        catch
        {
            owner?.Dispose();
            throw;
        }
    }

    /// <summary>An exclusive lock on <paramref name="path"/> (released when the process ends, however), or null when another process holds it.</summary>
    private static FileStream? TryLock(string path)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        try
        {
            return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException)
        {
            return null;
        }
    }
}
