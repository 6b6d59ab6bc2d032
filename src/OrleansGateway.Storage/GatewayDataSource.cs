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
    /// <remarks>
    /// A connection back from the pool is not reset (<c>DISCARD ALL</c> before every use, which also drops what was
    /// prepared: nothing here leaves session state behind), and unless the connection string sets
    /// <c>Max Auto Prepare</c> the statements used most are prepared once per connection: every message runs the same
    /// few statements, and planning them cost PostgreSQL more than running them.
    /// </remarks>
    public static NpgsqlDataSource Create(string connectionString, string applicationName)
    {
        var builder = new NpgsqlConnectionStringBuilder(connectionString);
        if (string.IsNullOrEmpty(builder.ApplicationName))
        {
            builder.ApplicationName = applicationName;
        }

        builder.NoResetOnClose = true;
        if (builder.MaxAutoPrepare == 0)
        {
            builder.MaxAutoPrepare = 32;
        }

        return NpgsqlDataSource.Create(builder.ConnectionString);
    }
}
