using Npgsql;

namespace OrleansGateway.Tests.Storage;

// The group commit of the ledger's writes, seen from PostgreSQL: shared transactions, and errors kept apart.
public sealed partial class SessionLedgerTests
{
    [Fact]
    public async Task Concurrent_turn_starts_of_many_sessions_share_a_few_transactions()
    {
        var ids = Enumerable.Range(0, 40).Select(i => $"group-{i}").ToList();

        var epochs = await Task.WhenAll(ids.Select(id => _ledger.BeginTurnAsync(id, null, SiloA, "t1")));

        Assert.All(epochs, epoch => Assert.Equal(1L, epoch));
        // Rows written by one transaction carry its id as xmin.
        await using var transactions = _dataSource.CreateCommand("SELECT count(DISTINCT xmin::text) FROM gateway_sessions WHERE session_id LIKE 'group-%'");
        var count = (long)(await transactions.ExecuteScalarAsync())!;
        Assert.InRange(count, 1, 10);
    }

    [Fact]
    public async Task A_statement_that_fails_fails_its_caller_alone()
    {
        await using (var poison = _dataSource.CreateCommand("""
            CREATE FUNCTION refuse_poison() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
              IF NEW.session_id = 'poison' THEN RAISE EXCEPTION 'poison refused'; END IF;
              RETURN NEW;
            END $$;
            CREATE TRIGGER refuse_poison BEFORE INSERT OR UPDATE ON gateway_sessions FOR EACH ROW EXECUTE FUNCTION refuse_poison();
            """))
        {
            await poison.ExecuteNonQueryAsync();
        }

        var ids = Enumerable.Range(0, 30).Select(i => i == 17 ? "poison" : $"healthy-{i}").ToList();
        var starts = ids.Select(id => _ledger.BeginTurnAsync(id, null, SiloA, "t1")).ToList();
        await Task.WhenAll(starts).ContinueWith(_ => { }, TaskScheduler.Default);

        var refused = await Assert.ThrowsAsync<PostgresException>(() => starts[17]);
        Assert.Contains("poison refused", refused.MessageText);
        Assert.All(starts.Where((_, i) => i != 17), start => Assert.Equal(1L, start.Result));
        await using var count = _dataSource.CreateCommand("SELECT count(*) FROM gateway_sessions");
        Assert.Equal(29L, (long)(await count.ExecuteScalarAsync())!);
    }
}
