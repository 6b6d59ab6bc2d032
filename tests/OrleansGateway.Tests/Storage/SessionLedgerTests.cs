using Npgsql;
using OrleansGateway.Sessions;
using OrleansGateway.Storage;
using OrleansGateway.Tests.Infrastructure;

namespace OrleansGateway.Tests.Storage;

/// <summary>The ledger's transitions against a real PostgreSQL: the invariants the resume lifecycle stands on.</summary>
[Collection(PostgresCollection.Name)]
public sealed partial class SessionLedgerTests(PostgresFixture postgres) : IAsyncLifetime
{
    private const string SiloA = "10.0.0.1:11111@1";
    private const string SiloB = "10.0.0.2:11111@1";
    private NpgsqlDataSource _dataSource = null!;
    private SessionLedger _ledger = null!;
    private SessionQueries _queries = null!;

    public async Task InitializeAsync()
    {
        _dataSource = NpgsqlDataSource.Create(await postgres.CreateMigratedDatabaseAsync("ledger"));
        _ledger = new SessionLedger(_dataSource);
        _queries = new SessionQueries(_dataSource);
    }

    public async Task DisposeAsync() => await _dataSource.DisposeAsync();

    private Task<IReadOnlyList<ResumeCandidate>> LeaseAsync(string sweeper, IReadOnlyCollection<string>? skipOwners = null) =>
        _ledger.LeaseResumableAsync(sweeper, TimeSpan.FromHours(1), TimeSpan.FromSeconds(30), limit: 10, maxAttempts: 3, skipOwners);

    /// <summary>A new session whose first turn runs on <paramref name="owner"/>; its epoch.</summary>
    private Task<long?> RunningAsync(string sessionId, string owner) => _ledger.BeginTurnAsync(sessionId, null, owner, "t1");

    /// <summary>
    /// The session's grain state written now, as the ADO.NET grain storage keeps it (JSON of Orleans' Newtonsoft-based
    /// serializer, see Golden/0.1/SessionState.json): one turn per (status, executions); a null status is left out, as
    /// the serializer leaves out Queued, the default.
    /// </summary>
    private async Task StateAsync(string sessionId, params (int? Status, int Executions)[] turns)
    {
        // Written with ' for ", for legibility.
        var records = turns.Select((turn, i) =>
            $"{{'$id':'{i + 2}','$type':'OrleansGateway.Sessions.TurnRecord, OrleansGateway.Silo','TurnId':'t{i + 1}','MessageId':'m-{i + 1}','Text':'work 2x10',"
            + (turn.Status is { } status ? $"'Status':{status}," : "")
            + $"'StepsTotal':2,'Executions':{turn.Executions},'AcceptedAt':'2026-11-30T10:00:00.123+01:00'}}");
        var json = ("{'$id':'1','$type':'OrleansGateway.Sessions.SessionState, OrleansGateway.Silo','Turns':{'$type':'System.Collections.Generic.List`1[[OrleansGateway.Sessions.TurnRecord, OrleansGateway.Silo]], System.Private.CoreLib','$values':["
            + string.Join(",", records) + $"]}},'LastTurnNumber':{turns.Length}}}").Replace('\'', '"');
        await using var command = _dataSource.CreateCommand("""
            INSERT INTO orleansstorage (grainidhash, grainidn0, grainidn1, graintypehash, graintypestring, grainidextensionstring, serviceid, payloadbinary, version)
            VALUES (hashtext(@id), 0, 0, hashtext('session'), 'session', @id, 'test', convert_to(@json, 'UTF8'), 1)
            """);
        command.Parameters.AddWithValue("id", sessionId);
        command.Parameters.AddWithValue("json", json);
        await command.ExecuteNonQueryAsync();
    }

    private async Task<DateTimeOffset> StateWrittenAsync(string sessionId)
    {
        await using var command = _dataSource.CreateCommand("SELECT modifiedon FROM orleansstorage WHERE grainidextensionstring = @id");
        command.Parameters.AddWithValue("id", sessionId);
        return new DateTimeOffset((DateTime)(await command.ExecuteScalarAsync())!);
    }

    /// <summary>A silo as Orleans' membership table records it, in cluster <paramref name="cluster"/>.</summary>
    private async Task MemberAsync(string cluster, string address, int status, int aliveSecondsAgo)
    {
        var (host, port, generation) = (address.Split(':')[0], int.Parse(address.Split(':', '@')[1]), int.Parse(address.Split('@')[1]));
        await ExecuteAsync($"""
            INSERT INTO orleansmembershipversiontable (deploymentid) VALUES ('{cluster}') ON CONFLICT DO NOTHING;
            INSERT INTO orleansmembershiptable (deploymentid, address, port, generation, siloname, hostname, status, starttime, iamalivetime)
            VALUES ('{cluster}', '{host}', {port}, {generation}, 'silo', 'host', {status}, now() - interval '1 hour', now() - interval '{aliveSecondsAgo} seconds')
            """);
    }

    private async Task<string?> OwnerClusterAsync(string sessionId)
    {
        await using var command = _dataSource.CreateCommand($"SELECT owner_cluster FROM gateway_sessions WHERE session_id = '{sessionId}'");
        return await command.ExecuteScalarAsync() as string;
    }

    /// <summary>Until <paramref name="count"/> statements on this test's database wait for a lock.</summary>
    private async Task WaitersOnLocksAsync(int count)
    {
        var waiting = 0L;
        await Eventually.UntilAsync(async () =>
        {
            await using var command = _dataSource.CreateCommand(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'");
            waiting = (long)(await command.ExecuteScalarAsync())!;
            return waiting == count;
        }, TimeSpan.FromSeconds(10), () => $"{waiting} statements waiting for a lock, not {count}", pollMilliseconds: 10);
    }

    private async Task ExecuteAsync(string sql)
    {
        await using var command = _dataSource.CreateCommand(sql);
        await command.ExecuteNonQueryAsync();
    }
}
