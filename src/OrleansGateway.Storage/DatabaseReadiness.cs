using Npgsql;

namespace OrleansGateway.Storage;

/// <summary>The start-up check every process of the gateway makes: can it reach the database, and is the schema this build's?</summary>
public static class DatabaseReadiness
{
    /// <summary>Null when the database is usable, else one sentence that says what to fix.</summary>
    public static async Task<string?> FindProblemAsync(string connectionString, CancellationToken cancellationToken)
    {
        NpgsqlConnectionStringBuilder builder;
        try
        {
            builder = new NpgsqlConnectionStringBuilder(connectionString) { Timeout = 5 };
        }
        catch (ArgumentException exception)
        {
            return $"ConnectionStrings:Postgres is not a valid connection string: {exception.Message}";
        }

        await using var dataSource = NpgsqlDataSource.Create(builder.ConnectionString);
        try
        {
            await new SchemaMigrator(dataSource).EnsureCurrentAsync(cancellationToken);
            return null;
        }
        catch (SchemaVersionException exception)
        {
            return exception.Message;
        }
        catch (Exception exception) when (exception is NpgsqlException or TimeoutException)
        {
            return $"cannot reach PostgreSQL at {builder.Host}:{builder.Port}: {exception.GetBaseException().Message}";
        }
    }
}
