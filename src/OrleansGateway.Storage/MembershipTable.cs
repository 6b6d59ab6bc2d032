using Npgsql;
using OrleansGateway.Operations;

namespace OrleansGateway.Storage;

/// <summary>One silo as the Orleans membership table records it.</summary>
/// <param name="Address">Endpoint with generation, the form sessions record as their owner.</param>
/// <param name="Status">Orleans' SiloStatus name: Created, Joining, Active, ShuttingDown, Stopping, Dead.</param>
/// <param name="Version">The build version it registered (<c>gateway_silos</c>); <see cref="SiloRow.Unregistered"/> for a silo of release 0.1, which registers nowhere.</param>
public sealed record SiloRow(string Address, string SiloName, string HostName, string Status, DateTimeOffset StartedAt, DateTimeOffset IAmAliveAt,
    string Version)
{
    /// <summary>The version shown for a silo without a registration: only release 0.1 predates it.</summary>
    public const string Unregistered = "0.1";
}

/// <summary>Reads of Orleans' membership table, for operators and crash detection. Orleans alone writes it.</summary>
public sealed class MembershipTable(NpgsqlDataSource dataSource)
{
    /// <summary>
    /// SQL: the address of membership row <c>m</c> in the form silos record as owners (<c>gateway_sessions.owner_silo</c>,
    /// <c>gateway_silos.address</c>): <c>10.0.0.5:11111@154852577</c>.
    /// </summary>
    internal const string MemberAddress = "m.address || ':' || m.port || '@' || m.generation";

    // Set once the schema has gateway_silos: no script removes it again, so it is asked only until then.
    private volatile bool _hasRegistry;

    public async Task<IReadOnlyList<SiloRow>> ReadSilosAsync(string clusterId, CancellationToken cancellationToken = default)
    {
        // A database not yet migrated to schema 15 (an upgrade under way) has no registrations to read.
        await using var command = dataSource.CreateCommand(await HasRegistryAsync(cancellationToken)
            ? SelectWithRegistry
            : """
              SELECT address, port, generation, siloname, hostname, status, starttime, iamalivetime, NULL::text
                FROM orleansmembershiptable
               WHERE deploymentid = @cluster_id
               ORDER BY starttime, port
              """);
        command.Parameters.AddWithValue("cluster_id", clusterId);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await ReadRowsAsync(reader, cancellationToken);
    }

    /// <summary>SQL: the silos of cluster <c>@cluster_id</c> with their registered versions (schema 15 on), as <see cref="ReadRowsAsync"/> reads them.</summary>
    internal const string SelectWithRegistry = $"""
        SELECT m.address, m.port, m.generation, m.siloname, m.hostname, m.status, m.starttime, m.iamalivetime, s.version
          FROM orleansmembershiptable m
          LEFT JOIN gateway_silos s ON s.address = {MemberAddress}
         WHERE m.deploymentid = @cluster_id
         ORDER BY m.starttime, m.port
        """;

    internal static async Task<List<SiloRow>> ReadRowsAsync(NpgsqlDataReader reader, CancellationToken cancellationToken)
    {
        var silos = new List<SiloRow>();
        while (await reader.ReadAsync(cancellationToken))
        {
            silos.Add(new SiloRow(
                Address: $"{reader.GetString(0)}:{reader.GetInt32(1)}@{reader.GetInt32(2)}",
                SiloName: reader.GetString(3),
                HostName: reader.GetString(4),
                Status: SiloStatuses.FromNumber(reader.GetInt32(5)),
                StartedAt: ToUtc(reader.GetDateTime(6)),
                IAmAliveAt: ToUtc(reader.GetDateTime(7)),
                Version: reader.IsDBNull(8) ? SiloRow.Unregistered : reader.GetString(8)));
        }

        return silos;
    }

    private async Task<bool> HasRegistryAsync(CancellationToken cancellationToken)
    {
        if (!_hasRegistry)
        {
            await using var command = dataSource.CreateCommand("SELECT to_regclass('gateway_silos') IS NOT NULL");
            _hasRegistry = (bool)(await command.ExecuteScalarAsync(cancellationToken))!;
        }

        return _hasRegistry;
    }


    private static DateTimeOffset ToUtc(DateTime value) => new(DateTime.SpecifyKind(value, DateTimeKind.Utc));
}
