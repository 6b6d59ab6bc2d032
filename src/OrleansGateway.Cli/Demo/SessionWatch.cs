using System.Collections.Concurrent;
using System.Diagnostics;
using Npgsql;
using OrleansGateway.LocalCluster;
using OrleansGateway.Sessions;
using OrleansGateway.Storage;

namespace OrleansGateway.Cli.Demo;

/// <summary>
/// Follows the demo's sessions while silos come and go: the ledger every 200 ms (phases and resume marks, read
/// straight from PostgreSQL so that a dying silo never delays it, and often enough to catch a session in
/// resume_pending), and the HTTP API every second (turn progress as a user sees it, from silos that are up).
/// </summary>
public sealed class SessionWatch : IAsyncDisposable
{
    private static readonly TimeSpan LedgerPeriod = TimeSpan.FromMilliseconds(200);
    private static readonly TimeSpan ApiPeriod = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan ApiTimeout = TimeSpan.FromSeconds(3);

    // Each demo session holds one turn: the progress shown reads the newest, so its cost stays one turn. The final account
    // (ReadAllAsync) reads every turn: a message taken twice would be a second turn.
    private const int ProgressTurns = 1;
    private static readonly HashSet<string> StopReasons = [ResumeReasons.RestartTimeout, ResumeReasons.ShutdownTimeout];

    private readonly IReadOnlyList<string> _sessionIds;
    private readonly SessionQueries _ledger;
    private readonly GatewayApi _api;
    private readonly Func<IReadOnlyList<Uri>> _servingSilos;
    private readonly Stopwatch _clock;
    private readonly CancellationTokenSource _stop = new();
    private readonly ConcurrentDictionary<string, string> _premarked = new();
    private readonly ConcurrentDictionary<string, string> _otherMarks = new();
    private readonly ConcurrentDictionary<string, bool> _quarantined = new();
    private readonly ConcurrentDictionary<string, SessionResponse> _documents = new();
    private readonly ConcurrentQueue<ResumeClock> _resumeClocks = new();
    private IReadOnlyDictionary<string, LedgerRow> _rows = new Dictionary<string, LedgerRow>();
    private Task _loops = Task.CompletedTask;

    /// <param name="servingSilos">The silos to read sessions from now: up and not stopping.</param>
    public SessionWatch(IReadOnlyList<string> sessionIds, SessionQueries ledger, GatewayApi api, Func<IReadOnlyList<Uri>> servingSilos, Stopwatch clock)
    {
        _sessionIds = sessionIds;
        _ledger = ledger;
        _api = api;
        _servingSilos = servingSilos;
        _clock = clock;
    }

    /// <summary>The latest ledger row of each session.</summary>
    public IReadOnlyDictionary<string, LedgerRow> Rows => Volatile.Read(ref _rows);

    /// <summary>The latest answer of the API for each session.</summary>
    public IReadOnlyDictionary<string, SessionResponse> Documents => _documents;

    /// <summary>Sessions seen resume_pending with a stop's reason (restart_timeout, shutdown_timeout), with that reason.</summary>
    public IReadOnlyDictionary<string, string> Premarked => _premarked;

    /// <summary>Sessions seen resume_pending for another reason (a crash found them, a deactivation cut their turn short).</summary>
    public IReadOnlyDictionary<string, string> OtherMarks => _otherMarks;

    /// <summary>Sessions seen quarantined at any time.</summary>
    public IReadOnlyCollection<string> Quarantined => [.. _quarantined.Keys];

    /// <summary>The last reason a ledger poll failed, for the display; null while polls succeed.</summary>
    public string? LedgerProblem { get; private set; }

    public void Start() =>
        _loops = Task.WhenAll(Task.Run(() => PollLedgerAsync(_stop.Token)), Task.Run(() => PollApiAsync(_stop.Token)));

    /// <summary>Times how fast the turns of a stopped silo run again, from the next ledger poll on.</summary>
    public void Follow(ResumeClock clock) => _resumeClocks.Enqueue(clock);

    /// <summary>
    /// Reads the ledger now, not the last poll: the sessions the silo on <paramref name="siloPort"/> is running,
    /// each with the owner (address and generation) the ledger names.
    /// </summary>
    public async Task<IReadOnlyDictionary<string, string>> RunningOnAsync(int siloPort, CancellationToken cancellationToken)
    {
        var rows = await _ledger.GetManyAsync([.. _sessionIds], cancellationToken);
        return rows.Where(row => row.Phase == SessionPhase.Running && row.OwnerSilo is { } owner && PortOf(owner) == siloPort)
            .ToDictionary(row => row.SessionId, row => row.OwnerSilo!);
    }

    /// <summary>
    /// The final account: every session read through the API with every turn, asked again (of another silo) until it answers or
    /// <paramref name="timeout"/> passes. Null for a session no silo answered for.
    /// </summary>
    public async Task<IReadOnlyDictionary<string, SessionRead?>> ReadAllAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        var deadline = _clock.Elapsed + timeout;
        var reads = new ConcurrentDictionary<string, SessionRead?>(_sessionIds.Select(id => KeyValuePair.Create(id, (SessionRead?)null)));
        for (var round = 0; _clock.Elapsed < deadline; round++)
        {
            var silos = _servingSilos();
            var missing = reads.Where(read => read.Value is null).Select(read => read.Key).ToList();
            if (missing.Count == 0)
            {
                break;
            }

            await Task.WhenAll(missing.Select(async (sessionId, index) =>
                reads[sessionId] = silos.Count == 0 ? null : await _api.TryGetSessionAsync(silos[(index + round) % silos.Count], sessionId, TimeSpan.FromSeconds(10), cancellationToken)));
            await Task.Delay(reads.Values.Any(read => read is null) ? 500 : 0, cancellationToken);
        }

        return reads;
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _loops.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        _stop.Dispose();
    }

    private async Task PollLedgerAsync(CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                var rows = (await _ledger.GetManyAsync([.. _sessionIds], cancellationToken)).ToDictionary(row => row.SessionId);
                Record(rows);
                LedgerProblem = null;
            }
            catch (Exception exception) when (exception is NpgsqlException or TimeoutException)
            {
                LedgerProblem = exception.Message;
            }

            await Task.Delay(LedgerPeriod, cancellationToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
    }

    private void Record(IReadOnlyDictionary<string, LedgerRow> rows)
    {
        Volatile.Write(ref _rows, rows);
        foreach (var row in rows.Values)
        {
            if (row.Phase == SessionPhase.ResumePending)
            {
                var reason = row.ResumeReason ?? "unknown";
                if (StopReasons.Contains(reason))
                {
                    _premarked.TryAdd(row.SessionId, reason);
                }
                else
                {
                    _otherMarks.TryAdd(row.SessionId, reason);
                }
            }
            else if (row.Phase == SessionPhase.Quarantined)
            {
                _quarantined.TryAdd(row.SessionId, true);
            }
        }

        var now = _clock.Elapsed;
        foreach (var clock in _resumeClocks)
        {
            clock.Observe(rows, now);
        }
    }

    private async Task PollApiAsync(CancellationToken cancellationToken)
    {
        for (var round = 0; !cancellationToken.IsCancellationRequested; round++)
        {
            var started = _clock.Elapsed;
            var silos = _servingSilos();
            if (silos.Count > 0)
            {
                // Spread over the serving silos, and over different ones each round, as clients of a load balancer would.
                await Task.WhenAll(_sessionIds.Select(async (sessionId, index) =>
                {
                    var read = await _api.TryGetSessionWithNewestAsync(silos[(index + round) % silos.Count], sessionId, ProgressTurns, ApiTimeout, cancellationToken);
                    if (read?.Session is { } session)
                    {
                        _documents[sessionId] = session;
                    }
                }));
            }

            var rest = ApiPeriod - (_clock.Elapsed - started);
            if (rest > TimeSpan.Zero)
            {
                await Task.Delay(rest, cancellationToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            }
        }
    }

    /// <summary>The port of an Orleans silo address as the ledger stores it: <c>127.0.0.1:11111@154852577</c>.</summary>
    private static int? PortOf(string siloAddress)
    {
        var at = siloAddress.LastIndexOf('@');
        var colon = at < 0 ? -1 : siloAddress.LastIndexOf(':', at);
        return colon >= 0 && int.TryParse(siloAddress.AsSpan(colon + 1, at - colon - 1), out var port) ? port : null;
    }
}
