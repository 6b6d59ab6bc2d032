namespace OrleansGateway.LocalCluster;

/// <summary>How to run the dashboard process.</summary>
public sealed record DashboardProcessSettings(string ConnectionString, string ClusterId, int HttpPort, string LogFile)
{
    /// <summary>The token named <c>operator</c>, or null for none (then <see cref="Environment"/> must configure access).</summary>
    public string? OperatorToken { get; init; }

    /// <summary>More configuration, as <c>Section__Key</c> environment variables.</summary>
    public IReadOnlyDictionary<string, string> Environment { get; init; } = new Dictionary<string, string>();
}

/// <summary>
/// The operator dashboard (OrleansGateway.Dashboard) in a process of its own: started by <c>ogw up</c> after the silos,
/// and by the tests. Ready once it is connected to the cluster (<c>/readyz</c>); serving as soon as <c>/healthz</c> answers.
/// </summary>
public sealed class DashboardProcess : IAsyncDisposable
{
    private readonly ProgramProcess _process;

    private DashboardProcess(DashboardProcessSettings settings, ProgramProcess process)
    {
        Settings = settings;
        _process = process;
    }

    public DashboardProcessSettings Settings { get; }

    public Uri BaseAddress => new($"http://127.0.0.1:{Settings.HttpPort}/");

    public bool HasExited => _process.HasExited;

    public int ExitCode => _process.ExitCode;

    public static DashboardProcess Start(DashboardProcessSettings settings)
    {
        var environment = new Dictionary<string, string>
        {
            ["ConnectionStrings__Postgres"] = settings.ConnectionString,
            ["Orleans__ClusterId"] = settings.ClusterId,
            ["Urls"] = $"http://127.0.0.1:{settings.HttpPort}",
        };
        if (settings.OperatorToken is { } token)
        {
            environment["Dashboard__OperatorToken"] = token;
        }

        foreach (var (key, value) in settings.Environment)
        {
            environment[key] = value;
        }

        return new DashboardProcess(settings, ProgramProcess.Start("dashboard", BuiltProgram.Dashboard, environment, settings.LogFile));
    }

    /// <summary>Waits until the dashboard is connected to the cluster (<c>/readyz</c> 200).</summary>
    public Task WaitUntilReadyAsync(TimeSpan timeout, CancellationToken cancellationToken = default) =>
        _process.WaitUntilHttpOkAsync(new Uri(BaseAddress, "readyz"), timeout, cancellationToken);

    /// <summary>Waits until the dashboard serves (<c>/healthz</c> 200), connected to a silo or not.</summary>
    public Task WaitUntilServingAsync(TimeSpan timeout, CancellationToken cancellationToken = default) =>
        _process.WaitUntilHttpOkAsync(new Uri(BaseAddress, "healthz"), timeout, cancellationToken);

    public void Terminate() => _process.Terminate();

    public Task<bool> WaitForExitAsync(TimeSpan timeout, CancellationToken cancellationToken = default) =>
        _process.WaitForExitAsync(timeout, cancellationToken);

    /// <summary>SIGTERM, then SIGKILL when it has not stopped within <paramref name="grace"/>.</summary>
    public Task StopAsync(TimeSpan grace) => _process.StopAsync(grace);

    public string ReadLog() => _process.ReadLog();

    public ValueTask DisposeAsync() => _process.DisposeAsync();
}
