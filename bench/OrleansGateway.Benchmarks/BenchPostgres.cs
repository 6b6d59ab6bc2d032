using System.Net;
using System.Net.Sockets;
using Npgsql;
using OrleansGateway.LocalCluster;
using OrleansGateway.Storage;

namespace OrleansGateway.Benchmarks;

/// <summary>
/// The benchmark's own PostgreSQL server: a fresh data folder under the temp folder, on a free loopback port,
/// stopped and deleted at the end. Unlike the tests' throwaway server it runs with PostgreSQL's durable
/// defaults (fsync, synchronous_commit and full_page_writes on): every commit the premark and the resume
/// make costs what it costs in production. (<c>throwaway: false</c> gives these settings; the folder is ours
/// to delete, so this class deletes it.)
/// </summary>
internal sealed class BenchPostgres : IAsyncDisposable
{
    private readonly string _folder;
    private readonly LocalPostgresServer _server;

    private BenchPostgres(string folder, LocalPostgresServer server)
    {
        _folder = folder;
        _server = server;
    }

    public static async Task<BenchPostgres> StartAsync(CancellationToken cancellationToken)
    {
        var folder = Path.Combine(Path.GetTempPath(), $"ogw-bench-pg-{Guid.NewGuid():N}");
        try
        {
            var server = await LocalPostgresServer.StartAsync(Path.Combine(folder, "data"), FreeTcpPort(), throwaway: false, cancellationToken);
            return new BenchPostgres(folder, server);
        }
        catch
        {
            DeleteFolder(folder);
            throw;
        }
    }

    public int Port => _server.Port;

    public string DataDirectory => _server.DataDirectory;

    /// <summary>A new database with the gateway schema; returns its connection string.</summary>
    public async Task<string> CreateMigratedDatabaseAsync(string name, CancellationToken cancellationToken)
    {
        await _server.CreateDatabaseAsync(name, cancellationToken);
        var connectionString = _server.DatabaseConnectionString(name);
        await using var dataSource = NpgsqlDataSource.Create(connectionString);
        await new SchemaMigrator(dataSource).MigrateAsync(cancellationToken);
        return connectionString;
    }

    /// <summary>A new, empty database (no gateway schema), for a baseline of its own such as pgbench's; returns its name.</summary>
    public async Task<string> CreateDatabaseAsync(string name, CancellationToken cancellationToken)
    {
        await _server.CreateDatabaseAsync(name, cancellationToken);
        return _server.DatabaseConnectionString(name);
    }

    /// <summary>The server's settings that decide what a commit costs, for the report.</summary>
    public async Task<string> DescribeDurabilityAsync(CancellationToken cancellationToken)
    {
        await using var dataSource = NpgsqlDataSource.Create(_server.ConnectionString);
        await using var command = dataSource.CreateCommand(
            "SELECT format('PostgreSQL %s, fsync=%s, synchronous_commit=%s, full_page_writes=%s', " +
            "current_setting('server_version'), current_setting('fsync'), current_setting('synchronous_commit'), current_setting('full_page_writes'))");
        return (string)(await command.ExecuteScalarAsync(cancellationToken))!;
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await _server.DisposeAsync();
        }
        finally
        {
            DeleteFolder(_folder);
        }
    }

    public static int FreeTcpPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static void DeleteFolder(string folder)
    {
        if (Directory.Exists(folder))
        {
            Directory.Delete(folder, recursive: true);
        }
    }
}
