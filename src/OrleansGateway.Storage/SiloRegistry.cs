using Npgsql;

namespace OrleansGateway.Storage;

/// <summary>What a silo registers about itself when it starts.</summary>
public sealed record SiloRegistration(string Address, string ClusterId, string ServiceId, string SiloName, string Version, int SchemaMax);

/// <summary>
/// A silo of this cluster that is Active in the membership table, with what it registered: <see cref="Version"/> is
/// null for a silo that registers nowhere (release 0.1).
/// </summary>
public sealed record ActiveSilo(string Address, string? Version, bool Draining);

/// <summary>
/// <c>gateway_silos</c>: each silo's build version, schema and drain, for the version preference of sweepers and
/// placement, the operators' views, and the contract check of migrations. Its SQL lives here, but for the premark's
/// drain flag (in <see cref="SessionLedger.PremarkAsync"/>, the same statement) and the migrator's check.
/// </summary>
public sealed class SiloRegistry(NpgsqlDataSource dataSource)
{
    // A row outlives its silo this long, for the operators' history; then the next registration removes it.
    private static readonly TimeSpan Retention = TimeSpan.FromDays(7);

    public async Task RegisterAsync(SiloRegistration silo, CancellationToken cancellationToken = default)
    {
        await using var batch = dataSource.CreateBatch();
        var register = new NpgsqlBatchCommand("""
            INSERT INTO gateway_silos (address, cluster_id, service_id, silo_name, version, schema_max)
            VALUES (@address, @cluster_id, @service_id, @silo_name, @version, @schema_max)
            ON CONFLICT (address) DO UPDATE
               SET cluster_id = excluded.cluster_id, service_id = excluded.service_id, silo_name = excluded.silo_name,
                   version = excluded.version, schema_max = excluded.schema_max, started_at = now(), draining_since = NULL
            """);
        register.Parameters.AddWithValue("address", silo.Address);
        register.Parameters.AddWithValue("cluster_id", silo.ClusterId);
        register.Parameters.AddWithValue("service_id", silo.ServiceId);
        register.Parameters.AddWithValue("silo_name", silo.SiloName);
        register.Parameters.AddWithValue("version", silo.Version);
        register.Parameters.AddWithValue("schema_max", silo.SchemaMax);
        var trim = new NpgsqlBatchCommand("DELETE FROM gateway_silos WHERE started_at < now() - @retention");
        trim.Parameters.AddWithValue("retention", Retention);
        batch.BatchCommands.Add(register);
        batch.BatchCommands.Add(trim);
        await batch.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>The Active silos of <paramref name="clusterId"/> with their version and drain, registered or not.</summary>
    public async Task<IReadOnlyList<ActiveSilo>> ReadActiveAsync(string clusterId, CancellationToken cancellationToken = default)
    {
        await using var command = dataSource.CreateCommand($"""
            SELECT {MembershipTable.MemberAddress}, s.version, s.draining_since IS NOT NULL
              FROM orleansmembershiptable m
              LEFT JOIN gateway_silos s ON s.address = {MembershipTable.MemberAddress}
             WHERE m.deploymentid = @cluster_id AND m.status = 3
            """);
        command.Parameters.AddWithValue("cluster_id", clusterId);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var silos = new List<ActiveSilo>();
        while (await reader.ReadAsync(cancellationToken))
        {
            silos.Add(new ActiveSilo(reader.GetString(0), reader.IsDBNull(1) ? null : reader.GetString(1), !reader.IsDBNull(2) && reader.GetBoolean(2)));
        }

        return silos;
    }

    /// <summary>The registered version of every silo of the database, by address: for the operators' views.</summary>
    public async Task<IReadOnlyDictionary<string, string>> ReadVersionsAsync(CancellationToken cancellationToken = default)
    {
        await using var command = dataSource.CreateCommand("SELECT address, version FROM gateway_silos");
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var versions = new Dictionary<string, string>();
        while (await reader.ReadAsync(cancellationToken))
        {
            versions[reader.GetString(0)] = reader.GetString(1);
        }

        return versions;
    }
}
