using System.CommandLine;
using OrleansGateway.LocalCluster;

namespace OrleansGateway.Cli.Commands;

/// <summary>The options of every command that starts a local cluster (<c>up</c>, <c>demo</c>): silo count and first ports.</summary>
public sealed class ClusterCommandOptions
{
    public ClusterCommandOptions(int defaultSilos)
    {
        Silos = new Option<int>("--silos") { Description = "Number of silo processes", DefaultValueFactory = _ => defaultSilos };
    }

    public Option<int> Silos { get; }

    public Option<int> HttpPort { get; } = new("--http-port")
    {
        Description = "HTTP port of the first silo; the next silos count up",
        DefaultValueFactory = _ => ClusterPorts.Default.Http,
    };

    public Option<int> SiloPort { get; } = new("--silo-port")
    {
        Description = "Orleans silo port of the first silo",
        DefaultValueFactory = _ => ClusterPorts.Default.Silo,
    };

    public Option<int> GatewayPort { get; } = new("--gateway-port")
    {
        Description = "Orleans gateway port of the first silo",
        DefaultValueFactory = _ => ClusterPorts.Default.Gateway,
    };

    public void AddTo(Command command)
    {
        command.Options.Add(Silos);
        command.Options.Add(HttpPort);
        command.Options.Add(SiloPort);
        command.Options.Add(GatewayPort);
    }

    /// <summary>The spec's own checks (silo count, ports) as usage errors: they check the options' values, before anything starts.</summary>
    public static void Validate(LocalClusterSpec spec)
    {
        try
        {
            spec.Validate();
        }
        catch (LocalClusterException problem)
        {
            throw CliError.Usage(problem.Message);
        }
    }

    public LocalClusterSpec Read(ParseResult parse) => new(
        parse.GetValue(Silos),
        new ClusterPorts(parse.GetValue(HttpPort), parse.GetValue(SiloPort), parse.GetValue(GatewayPort)));
}
