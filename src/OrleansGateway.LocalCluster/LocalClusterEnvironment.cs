namespace OrleansGateway.LocalCluster;

/// <summary>
/// Where <c>ogw up</c> keeps its things: the embedded PostgreSQL data folder and the silos' logs.
/// <c>OGW_HOME</c> when set; as root <c>/var/lib/orleans-gateway</c> (the postgres user that runs the server
/// cannot enter root's home); otherwise <c>$XDG_DATA_HOME/orleans-gateway</c>, by default
/// <c>~/.local/share/orleans-gateway</c>.
/// </summary>
public static class LocalClusterEnvironment
{
    public const int DefaultEmbeddedPostgresPort = 54329;

    /// <summary>Port of the embedded PostgreSQL server, on 127.0.0.1: <c>OGW_PG_PORT</c> when set, else 54329.</summary>
    public static int EmbeddedPostgresPort =>
        Environment.GetEnvironmentVariable("OGW_PG_PORT") is not { Length: > 0 } configured ? DefaultEmbeddedPostgresPort
        : int.TryParse(configured, out var port) && port is > 0 and < 65536 ? port
        : throw new LocalClusterException($"OGW_PG_PORT={configured} is not a port number (1-65535)");

    public static string Home
    {
        get
        {
            if (Environment.GetEnvironmentVariable("OGW_HOME") is { Length: > 0 } configured)
            {
                return Path.GetFullPath(configured);
            }

            if (LocalPostgresServer.RunningAsRoot)
            {
                return "/var/lib/orleans-gateway";
            }

            var dataHome = Environment.GetEnvironmentVariable("XDG_DATA_HOME") is { Length: > 0 } xdg
                ? xdg
                : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".local", "share");
            return Path.Combine(dataHome, "orleans-gateway");
        }
    }

    public static string PostgresDataDirectory => Path.Combine(Home, "postgres");

    public static string LogDirectory => Path.Combine(Home, "logs");

    /// <summary>Locked by the ogw that stops the embedded server when it exits (<c>ogw up</c>, <c>ogw demo</c>).</summary>
    public static string EmbeddedLockFile => Path.Combine(Home, "postgres.lock");

    /// <summary>The configured database (<c>ConnectionStrings__Postgres</c>), or null for the embedded one.</summary>
    public static string? ConfiguredConnectionString =>
        Environment.GetEnvironmentVariable("ConnectionStrings__Postgres") is { Length: > 0 } configured ? configured : null;

    public static string EmbeddedConnectionString => new Npgsql.NpgsqlConnectionStringBuilder
    {
        Host = "127.0.0.1",
        Port = EmbeddedPostgresPort,
        Username = "postgres",
        Database = "postgres",
    }.ConnectionString;

    /// <summary>
    /// The database a command talks to: the option, the environment, or the embedded server of <c>ogw up</c>; a
    /// <see cref="LocalClusterException"/> naming where it came from when it is not a connection string at all.
    /// </summary>
    public static string ResolveConnectionString(string? option)
    {
        var (connectionString, source) = option is not null ? (option, "--connection")
            : ConfiguredConnectionString is { } configured ? (configured, "ConnectionStrings__Postgres")
            : (EmbeddedConnectionString, "the embedded server's connection string");
        try
        {
            _ = new Npgsql.NpgsqlConnectionStringBuilder(connectionString);
        }
        catch (ArgumentException exception)
        {
            throw new LocalClusterException($"{source} is not a valid PostgreSQL connection string: {exception.Message}");
        }

        return connectionString;
    }

    /// <summary>
    /// Drops <paramref name="database"/> on the server of <paramref name="connectionString"/> (with any session still
    /// on it) and creates it empty; returns the connection string of the new database.
    /// </summary>
    public static async Task<string> RecreateDatabaseAsync(string connectionString, string database, CancellationToken cancellationToken)
    {
        try
        {
            await using var dataSource = Npgsql.NpgsqlDataSource.Create(connectionString);
            var quoted = $"\"{database.Replace("\"", "\"\"", StringComparison.Ordinal)}\"";
            await using (var drop = dataSource.CreateCommand($"DROP DATABASE IF EXISTS {quoted} WITH (FORCE)"))
            {
                await drop.ExecuteNonQueryAsync(cancellationToken);
            }

            await using var create = dataSource.CreateCommand($"CREATE DATABASE {quoted}");
            await create.ExecuteNonQueryAsync(cancellationToken);
        }
        catch (Npgsql.NpgsqlException exception)
        {
            throw ClusterDatabase.DatabaseError(connectionString, exception);
        }

        return new Npgsql.NpgsqlConnectionStringBuilder(connectionString) { Database = database }.ConnectionString;
    }

    public static string ClusterId => Environment.GetEnvironmentVariable("Orleans__ClusterId") is { Length: > 0 } configured ? configured : GatewayDefaults.ClusterId;
}
