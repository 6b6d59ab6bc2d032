using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Npgsql;
using OrleansGateway.Storage;

namespace OrleansGateway.ServiceDefaults;

/// <summary>A reason a process of the gateway cannot start, said in one line.</summary>
public sealed class StartupException(string message) : Exception(message);

/// <summary>
/// The start-up checks every process of the gateway makes, the silo and the dashboard alike: a connection string,
/// settings that bind and validate, a database it can reach at the schema version of this build, and free places to
/// listen. Each process names its own settings and addresses in its own start-up checks (<c>SiloStartupChecks</c>, <c>DashboardStartupChecks</c>), and ends at once with the
/// one line of a <see cref="StartupException"/>.
/// </summary>
public static class StartupRequirements
{
    /// <param name="whereToSetIt">Where this process reads its settings from, for the message when none is set.</param>
    public static string RequireConnectionString(IConfiguration configuration, string whereToSetIt) =>
        configuration.GetConnectionString("Postgres") is { Length: > 0 } connectionString
            ? connectionString
            : throw new StartupException($"ConnectionStrings:Postgres is not set ({whereToSetIt})");

    /// <summary>
    /// Binds a section of the settings and checks it with <paramref name="validate"/> (every problem, not only the first),
    /// so that a typo fails the start instead of the first call that needs the setting.
    /// </summary>
    public static T ReadSettings<T>(IConfiguration configuration, string section, Func<T, IEnumerable<string>> validate) where T : new()
    {
        var settings = new T();
        try
        {
            configuration.GetSection(section).Bind(settings);
        }
        catch (InvalidOperationException exception)
        {
            throw new StartupException($"invalid {section} settings: {exception.GetBaseException().Message}");
        }

        var problems = validate(settings).ToList();
        return problems.Count == 0 ? settings : throw new StartupException(string.Join("; ", problems));
    }

    public static async Task RequireDatabaseAsync(string connectionString, CancellationToken cancellationToken)
    {
        NpgsqlConnectionStringBuilder builder;
        try
        {
            builder = new NpgsqlConnectionStringBuilder(connectionString) { Timeout = 5 };
        }
        catch (ArgumentException exception)
        {
            throw new StartupException($"ConnectionStrings:Postgres is not a valid connection string: {exception.Message}");
        }

        await using var dataSource = NpgsqlDataSource.Create(builder.ConnectionString);
        try
        {
            await new SchemaMigrator(dataSource).EnsureCompatibleAsync(cancellationToken);
        }
        catch (SchemaVersionException exception)
        {
            throw new StartupException(exception.Message);
        }
        catch (Exception exception) when (exception is NpgsqlException or TimeoutException)
        {
            throw new StartupException($"cannot reach PostgreSQL at {builder.Host}:{builder.Port}: {exception.GetBaseException().Message}");
        }
    }

    /// <summary>
    /// Fails when another process already listens on a port of the <c>Urls</c> setting (<c>;</c>-separated), checked
    /// before the host starts: Kestrel would say so too, but only once every hosted service has started (the silo has
    /// joined its cluster by then, the dashboard's Orleans client waits for a silo first).
    /// </summary>
    public static void RequireFreeUrls(IConfiguration configuration)
    {
        foreach (var url in (configuration["Urls"] ?? "").Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            string host;
            int port;
            try
            {
                // Kestrel's reading of the URL: its host and port, 0 for none (a Unix socket).
                var binding = BindingAddress.Parse(url);
                (host, port) = (binding.Host, binding.Port);
            }
            catch (FormatException exception)
            {
                throw new StartupException($"Urls: '{url}' is not a URL to listen on: {exception.Message}");
            }

            if (port == 0)
            {
                continue;
            }

            var address = host switch
            {
                "localhost" => IPAddress.Loopback,
                _ when IPAddress.TryParse(host.Trim('[', ']'), out var ip) => ip,
                _ => IPAddress.Any,
            };
            RequireFreePort(address, port, $"Urls: {url}");
        }
    }

    /// <summary>
    /// Fails when another process already listens on <paramref name="port"/>: found now, it is one line; found by the
    /// host once it starts, it is a stack trace, or a process that waits first (the dashboard's Orleans client).
    /// </summary>
    /// <param name="what">The setting that names the port, as the message begins, e.g. <c>Orleans:SiloPort 11111 on 0.0.0.0</c>.</param>
    public static void RequireFreePort(IPAddress address, int port, string what)
    {
        using var probe = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            probe.Bind(new IPEndPoint(address, port));
        }
        catch (SocketException exception)
        {
            throw new StartupException($"{what} is not available: {exception.Message}");
        }
    }
}
