using Npgsql;

namespace OrleansGateway.Storage;

public static class GatewayDataSource
{
    /// <summary>The ADO.NET invariant under which Orleans' providers (clustering, grain storage, reminders) find Npgsql.</summary>
    public const string AdoNetInvariant = "Npgsql";

    /// <summary>
    /// The process's one pool of PostgreSQL connections, shared by Orleans' providers and the gateway's own
    /// statements. The application name shows who holds a connection in <c>pg_stat_activity</c>.
    /// </summary>
    public static NpgsqlDataSource Create(string connectionString, string applicationName)
    {
        var builder = new NpgsqlConnectionStringBuilder(connectionString);
        if (string.IsNullOrEmpty(builder.ApplicationName))
        {
            builder.ApplicationName = applicationName;
        }

        return NpgsqlDataSource.Create(builder.ConnectionString);
    }
}
