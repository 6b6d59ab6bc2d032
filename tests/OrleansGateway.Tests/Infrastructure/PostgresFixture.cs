using System.Net;
using System.Net.Sockets;
using Npgsql;
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

    public static int FreeTcpPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}

[CollectionDefinition(Name)]
public sealed class PostgresCollection : ICollectionFixture<PostgresFixture>
{
    /// <summary>Every test that touches PostgreSQL is in this collection: one server for the whole run.</summary>
    public const string Name = "PostgreSQL";
}
