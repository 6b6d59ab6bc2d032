using System.Globalization;
using System.Text.RegularExpressions;
using OrleansGateway.Cli.Operator;

namespace OrleansGateway.Cli.Commands;

/// <summary>Silo addresses as the operator API reports them (<c>ip:port@generation</c>), checked where a command takes one.</summary>
public static partial class SiloAddresses
{
    public const string Form = "ip:port@generation, as `ogw status` shows it (e.g. 127.0.0.1:11111@154852577)";

    /// <summary>The address; a usage <see cref="CliError"/> that names <paramref name="option"/> (null for an argument) when it is no silo address.</summary>
    public static string Require(string address, string? option = null)
    {
        var match = Pattern().Match(address);
        if (!match.Success || !int.TryParse(match.Groups["port"].Value, CultureInfo.InvariantCulture, out var port) || port is < 1 or > 65535)
        {
            throw CliError.Usage($"{(option is null ? "" : option + " ")}'{address}' is not a silo address: {Form}");
        }

        return address;
    }

    /// <summary>
    /// For a listing filtered by <paramref name="address"/> that came back empty: nothing, when the silo is one of the
    /// cluster's (the dead of the last hour included) or owns sessions of other filters; else a <see cref="CliError"/> that
    /// lists the cluster's silos, instead of an empty table that looks like an answer.
    /// </summary>
    public static async Task RequireKnownAsync(OperatorApiClient client, string address, CancellationToken cancellationToken)
    {
        var silos = (await client.GetSilosAsync(cancellationToken)).Value;
        if (silos.Any(silo => silo.Address == address)
            || (await client.GetSessionsAsync(new SessionQuery(Silo: address, Limit: 1), cancellationToken)).Value.Sessions.Count > 0)
        {
            return;
        }

        var known = silos.Count == 0 ? "none" : string.Join(", ", silos.Select(silo => $"{silo.Address} ({silo.Status})"));
        throw new CliError($"--silo {address} is no silo of the cluster and owns no session; the cluster's silos: {known}");
    }

    // SiloAddress.ToParsableString(): ip:port@generation (an IPv6 address in brackets).
    [GeneratedRegex(@"\A\S+:(?<port>\d{1,5})@-?\d+\z", RegexOptions.CultureInvariant)]
    private static partial Regex Pattern();
}
