namespace OrleansGateway.LocalCluster;

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

    /// <summary>The silo program of the first silos: another release's (a rolling upgrade starts from it), or null for this build's.</summary>
    public string? SiloAssembly { get; init; }

    /// <summary>The schema to migrate to before the silos start: their release's; null for this build's latest.</summary>
    public int? SchemaVersion { get; init; }

    /// <summary>Silos of this build that replace the first ones, one at a time, on the ports after theirs (a rolling upgrade).</summary>
    public int Successors { get; init; }

    /// <summary>
    /// A database of the cluster's own on the embedded server, created anew at each start (a rolling upgrade needs one
    /// at an old schema); null for the server's <c>postgres</c> database. A configured server's database is used as it is.
    /// </summary>
    public string? EmbeddedDatabase { get; init; }

    /// <summary>Throws <see cref="LocalClusterException"/> when the silos do not fit the port ranges.</summary>
    public void Validate()
    {
        if (Silos is < 1 or > MaxSilos)
        {
            throw new LocalClusterException($"--silos must be between 1 and {MaxSilos}");
        }

        var ports = Silos + Successors;
        foreach (var (name, port) in new[] { ("--http-port", FirstPorts.Http), ("--silo-port", FirstPorts.Silo), ("--gateway-port", FirstPorts.Gateway) })
        {
            if (port < 1 || port + ports - 1 > 65535)
            {
                throw new LocalClusterException($"{name} {port} leaves no room for {ports} silos below port 65536");
            }
        }

        if (Dashboard is { Port: var dashboardPort })
        {
            if (dashboardPort is < 1 or > 65535)
            {
                throw new LocalClusterException($"--dashboard-port must be a port number (1-65535), not {dashboardPort}");
            }

            if (dashboardPort >= FirstPorts.Http && dashboardPort < FirstPorts.Http + ports)
            {
                throw new LocalClusterException($"--dashboard-port {dashboardPort} is the HTTP port of a silo ({FirstPorts.Http}-{FirstPorts.Http + ports - 1})");
            }
        }
    }
}

/// <summary>The operator dashboard of a local cluster: its HTTP port and the token named <c>operator</c>.</summary>
public sealed record DashboardSpec(int Port, string OperatorToken)
{
    public const int DefaultPort = 8080;
}
