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
    public async Task A_database_newer_than_this_build_is_a_clear_error_and_is_left_alone()
    {
        await using var dataSource = NpgsqlDataSource.Create(await postgres.CreateMigratedDatabaseAsync());
        var future = SchemaMigrator.LatestVersion + 1;
        await using (var insert = dataSource.CreateCommand($"INSERT INTO gateway_schema_version (version, name) VALUES ({future}, 'from_the_future')"))
        {
            await insert.ExecuteNonQueryAsync();
        }

        var migrator = new SchemaMigrator(dataSource);
        var migrate = await Assert.ThrowsAsync<SchemaVersionException>(() => migrator.MigrateAsync());
        var check = await Assert.ThrowsAsync<SchemaVersionException>(() => migrator.EnsureCurrentAsync());

        Assert.Contains($"version {future}, newer than this build's {SchemaMigrator.LatestVersion}", migrate.Message);
        Assert.Equal(migrate.Message, check.Message);
        Assert.Equal(future, await migrator.GetVersionAsync());
    }

    [Fact]
    public async Task An_unmigrated_database_is_reported_with_the_command_that_fixes_it()
    {
        await using var dataSource = NpgsqlDataSource.Create(await postgres.CreateDatabaseAsync());

        var error = await Assert.ThrowsAsync<SchemaVersionException>(() => new SchemaMigrator(dataSource).EnsureCurrentAsync());

        Assert.Contains("ogw db migrate", error.Message);
    }
}
