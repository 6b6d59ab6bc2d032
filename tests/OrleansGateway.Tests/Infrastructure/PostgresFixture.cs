using Npgsql;
using OrleansGateway.LocalCluster;
using OrleansGateway.Storage;

namespace OrleansGateway.Tests.Infrastructure;

/// <summary>
/// The PostgreSQL server of a test run: the one <c>OGW_TEST_POSTGRES</c> names (a superuser connection
/// string), or a throwaway server started in a temp folder on a free loopback port and removed afterwards.
/// Each test class takes a database of its own from it.
/// </summary>
public sealed class PostgresFixture : IAsyncLifetime
{
    private LocalPostgresServer? _server;
    private string _adminConnectionString = "";

    public async Task InitializeAsync()
    {
        if (Environment.GetEnvironmentVariable("OGW_TEST_POSTGRES") is { Length: > 0 } configured)
        {
            _adminConnectionString = configured;
            return;
        }

        var folder = Path.Combine(Path.GetTempPath(), $"ogw-test-pg-{Guid.NewGuid():N}");
        _server = await LocalPostgresServer.StartAsync(Path.Combine(folder, "data"), FreeTcpPort(), throwaway: true);
        _adminConnectionString = _server.ConnectionString;
    }

    public async Task DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }
    }

    /// <summary>A new empty database; returns its connection string.</summary>
    public async Task<string> CreateDatabaseAsync(string prefix = "ogw")
    {
        var name = $"{prefix}_{Guid.NewGuid():N}"[..Math.Min(prefix.Length + 33, 63)];
        await using var dataSource = NpgsqlDataSource.Create(_adminConnectionString);
        await using var command = dataSource.CreateCommand($"CREATE DATABASE \"{name}\"");
        await command.ExecuteNonQueryAsync();
        return new NpgsqlConnectionStringBuilder(_adminConnectionString) { Database = name }.ConnectionString;
    }

    /// <summary>A new database with the gateway schema applied.</summary>
    public async Task<string> CreateMigratedDatabaseAsync(string prefix = "ogw")
    {
        var connectionString = await CreateDatabaseAsync(prefix);
        await using var dataSource = NpgsqlDataSource.Create(connectionString);
        await new SchemaMigrator(dataSource).MigrateAsync();
        return connectionString;
    }

    /// <summary>
    /// A free loopback port below the kernel's ephemeral range: a port the kernel hands out for port 0 may be taken by an
    /// outgoing connection (the tests open many) before the silo that was given it binds it. Never the same twice.
    /// </summary>
    public static int FreeTcpPort()
    {
        lock (HandedOut)
        {
            while (true)
            {
                var port = Random.Shared.Next(FirstPort, EphemeralStart);
                if (HandedOut.Add(port) && FreePorts.CanBind(port))
                {
                    return port;
                }
            }
        }
    }

    private const int FirstPort = 10_000;

    private static readonly HashSet<int> HandedOut = [];

    private static readonly int EphemeralStart = ReadEphemeralStart();

    // /proc/sys/net/ipv4/ip_local_port_range: "32768	60999" on Linux by default.
    private static int ReadEphemeralStart()
    {
        try
        {
            var first = int.Parse(File.ReadAllText("/proc/sys/net/ipv4/ip_local_port_range").Split((char[])['\t', ' '], StringSplitOptions.RemoveEmptyEntries)[0]);
            return first > FirstPort + 1000 ? first : 32768;
        }
        catch (Exception exception) when (exception is IOException or FormatException or UnauthorizedAccessException)
        {
            return 32768;
        }
    }
}

[CollectionDefinition(Name)]
public sealed class PostgresCollection : ICollectionFixture<PostgresFixture>
{
    /// <summary>Every test that touches PostgreSQL is in this collection: one server for the whole run.</summary>
    public const string Name = "PostgreSQL";
}
