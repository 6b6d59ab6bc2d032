using Npgsql;
using OrleansGateway.Storage;
using OrleansGateway.Tests.Infrastructure;

namespace OrleansGateway.Tests.Storage;

[Collection(PostgresCollection.Name)]
public sealed class SchemaTests(PostgresFixture postgres)
{
    // The query keys the Orleans 10.4.2 ADO.NET providers look up at start ("Not all required queries found").
    public static TheoryData<string> RequiredQueryKeys => new()
    {
        // Grain persistence
        "WriteToStorageKey", "ReadFromStorageKey", "ClearStorageKey", "DeleteStorageKey",
        // Clustering
        "UpdateIAmAlivetimeKey", "InsertMembershipVersionKey", "InsertMembershipKey", "UpdateMembershipKey",
        "MembershipReadRowKey", "MembershipReadAllKey", "DeleteMembershipTableEntriesKey", "GatewaysQueryKey",
        "CleanupDefunctSiloEntriesKey",
        // Reminders
        "UpsertReminderRowKey", "ReadReminderRowsKey", "ReadReminderRowKey", "ReadRangeRows1Key", "ReadRangeRows2Key",
        "DeleteReminderRowKey", "DeleteReminderRowsKey",
    };

    [Fact]
    public async Task Migrating_twice_applies_every_script_once()
    {
        await using var dataSource = NpgsqlDataSource.Create(await postgres.CreateDatabaseAsync());
        var migrator = new SchemaMigrator(dataSource);

        var first = await migrator.MigrateAsync();
        var second = await migrator.MigrateAsync();

        Assert.Equal(0, first.FromVersion);
        Assert.Equal(SchemaMigrator.Scripts.Select(s => s.Version), first.Applied.Select(s => s.Version));
        Assert.Equal(SchemaMigrator.LatestVersion, first.ToVersion);
        Assert.Empty(second.Applied);
        Assert.Equal(SchemaMigrator.LatestVersion, second.FromVersion);
        Assert.Equal(SchemaMigrator.LatestVersion, await migrator.GetVersionAsync());
    }

    [Fact]
    public async Task Concurrent_migrations_apply_each_script_once()
    {
        await using var dataSource = NpgsqlDataSource.Create(await postgres.CreateDatabaseAsync());

        var results = await Task.WhenAll(Enumerable.Range(0, 3).Select(_ => new SchemaMigrator(dataSource).MigrateAsync()));

        Assert.Equal(SchemaMigrator.Scripts.Count, results.Sum(r => r.Applied.Count));
        await using var count = dataSource.CreateCommand("SELECT count(*) FROM gateway_schema_version");
        Assert.Equal((long)SchemaMigrator.Scripts.Count, await count.ExecuteScalarAsync());
    }

    [Theory]
    [MemberData(nameof(RequiredQueryKeys))]
    public async Task Every_query_the_Orleans_providers_need_is_present(string key)
    {
        await using var dataSource = NpgsqlDataSource.Create(await postgres.CreateMigratedDatabaseAsync());
        await using var command = dataSource.CreateCommand("SELECT querytext FROM orleansquery WHERE querykey = @key");
        command.Parameters.AddWithValue("key", key);

        var text = await command.ExecuteScalarAsync() as string;

        Assert.False(string.IsNullOrWhiteSpace(text), $"OrleansQuery has no text for {key}");
    }

    [Fact]
    public async Task A_database_a_newer_build_contracted_is_a_clear_error_and_is_left_alone()
    {
        await using var dataSource = NpgsqlDataSource.Create(await postgres.CreateMigratedDatabaseAsync());
        var future = SchemaMigrator.LatestVersion + 1;
        await using (var insert = dataSource.CreateCommand($"INSERT INTO gateway_schema_version (version, name) VALUES ({future}, 'from_the_future')"))
        {
            await insert.ExecuteNonQueryAsync();
        }

        var migrator = new SchemaMigrator(dataSource);
        var migrate = await Assert.ThrowsAsync<SchemaVersionException>(() => migrator.MigrateAsync());
        var check = await Assert.ThrowsAsync<SchemaVersionException>(() => migrator.EnsureCompatibleAsync());

        Assert.Contains($"version {future}, and script {future} (from_the_future) contracted it beyond this build's {SchemaMigrator.LatestVersion}", migrate.Message);
        Assert.Equal(migrate.Message, check.Message);
        Assert.Equal(future, await migrator.GetVersionAsync());
    }

    [Fact]
    public async Task A_database_a_newer_build_only_expanded_is_still_this_builds_a_rollback()
    {
        await using var dataSource = NpgsqlDataSource.Create(await postgres.CreateMigratedDatabaseAsync());
        var newer = new SchemaMigrator(dataSource, [.. SchemaMigrator.Scripts,
            SchemaMigrator.Parse(SchemaMigrator.LatestVersion + 1, "next_release_expands", $"""
                -- compatible-from: {SchemaMigrator.LatestVersion}
                ALTER TABLE gateway_sessions ADD COLUMN next_release_field text;
                """)]);
        Assert.Single((await newer.MigrateAsync()).Applied);

        var migrator = new SchemaMigrator(dataSource);
        await migrator.EnsureCompatibleAsync();
        Assert.Empty((await migrator.MigrateAsync()).Applied);
        Assert.Equal(SchemaMigrator.LatestVersion + 1, await migrator.GetVersionAsync());
    }

    [Fact]
    public async Task A_contracting_script_waits_until_no_Active_silo_knows_an_older_schema()
    {
        await using var dataSource = NpgsqlDataSource.Create(await postgres.CreateDatabaseAsync());
        await new SchemaMigrator(dataSource).MigrateAsync(targetVersion: SchemaMigrator.UnregisteredSiloSchema);
        Assert.Equal(SchemaMigrator.UnregisteredSiloSchema, await new SchemaMigrator(dataSource).GetVersionAsync());
        await using (var silos = dataSource.CreateCommand("""
            INSERT INTO orleansmembershipversiontable (deploymentid) VALUES ('blue');
            INSERT INTO orleansmembershiptable (deploymentid, address, port, generation, siloname, hostname, status, starttime, iamalivetime)
            VALUES ('blue', '10.0.0.1', 11111, 1, 'old-release', 'host', 3, now(), now()),
                   ('blue', '10.0.0.2', 11111, 1, 'gone', 'host', 6, now(), now())
            """))
        {
            await silos.ExecuteNonQueryAsync();
        }

        // The expand script of this release runs while release 0.1 serves.
        await new SchemaMigrator(dataSource).MigrateAsync();
        var contract = SchemaMigrator.Parse(SchemaMigrator.LatestVersion + 1, "drop_premark_stop_id", "ALTER TABLE gateway_sessions DROP COLUMN premark_stop_id;");
        var contracting = new SchemaMigrator(dataSource, [.. SchemaMigrator.Scripts, contract]);

        var refused = await Assert.ThrowsAsync<SchemaVersionException>(() => contracting.MigrateAsync());

        Assert.Contains($"script {contract.Version} (drop_premark_stop_id) contracts the schema", refused.Message);
        Assert.Contains("10.0.0.1:11111@1 (old-release, cluster blue, schema 14)", refused.Message);
        Assert.DoesNotContain("gone", refused.Message);
        Assert.DoesNotContain('\n', refused.Message);
        Assert.Equal(SchemaMigrator.LatestVersion, await contracting.GetVersionAsync());

        await using (var upgraded = dataSource.CreateCommand("UPDATE orleansmembershiptable SET status = 6"))
        {
            await upgraded.ExecuteNonQueryAsync();
        }

        Assert.Single((await contracting.MigrateAsync()).Applied);
        var rollback = await Assert.ThrowsAsync<SchemaVersionException>(() => new SchemaMigrator(dataSource).EnsureCompatibleAsync());
        Assert.Contains("contracted it beyond this build's", rollback.Message);
    }

    [Fact]
    public async Task An_unmigrated_database_is_reported_with_the_command_that_fixes_it()
    {
        await using var dataSource = NpgsqlDataSource.Create(await postgres.CreateDatabaseAsync());

        var error = await Assert.ThrowsAsync<SchemaVersionException>(() => new SchemaMigrator(dataSource).EnsureCompatibleAsync());

        Assert.Contains("ogw db migrate", error.Message);
    }
}
