namespace OrleansGateway.LocalCluster;

/// <summary>How to run one silo process.</summary>
public sealed record SiloProcessSettings(
    string Name,
    string ConnectionString,
    string ClusterId,
    int HttpPort,
    int SiloPort,
    int GatewayPort,
    string LogFile)
{
    /// <summary>More configuration, as <c>Section__Key</c> environment variables.</summary>
    public IReadOnlyDictionary<string, string> Environment { get; init; } = new Dictionary<string, string>();

    /// <summary>The silo program to run: this build's, or another release's (<see cref="ReleaseBuild"/>).</summary>
    public string SiloAssembly { get; init; } = BuiltProgram.Silo;
}

/// <summary>
/// A silo in a process of its own, driven the way an orchestrator drives it: start, wait for <c>/readyz</c>,
/// SIGTERM (graceful stop), SIGKILL (no shutdown code runs at all). Used by <c>ogw up</c> and the tests.
/// </summary>
public sealed class SiloProcess : IAsyncDisposable
{
    private readonly ProgramProcess _process;

    private SiloProcess(SiloProcessSettings settings, ProgramProcess process)
    {
        Settings = settings;
        _process = process;
    }

    public SiloProcessSettings Settings { get; }

    public Uri BaseAddress => new($"http://127.0.0.1:{Settings.HttpPort}/");

    public int ProcessId => _process.ProcessId;

    public bool HasExited => _process.HasExited;

    public int ExitCode => _process.ExitCode;

    public static SiloProcess Start(SiloProcessSettings settings)
    {
        var environment = new Dictionary<string, string>
        {
            ["ConnectionStrings__Postgres"] = settings.ConnectionString,
            ["Orleans__ClusterId"] = settings.ClusterId,
            ["Orleans__SiloName"] = settings.Name,
            ["Orleans__SiloPort"] = settings.SiloPort.ToString(),
            ["Orleans__GatewayPort"] = settings.GatewayPort.ToString(),
            ["Urls"] = $"http://127.0.0.1:{settings.HttpPort}",
        };
        foreach (var (key, value) in settings.Environment)
        {
            environment[key] = value;
        }

        return new SiloProcess(settings, ProgramProcess.Start(settings.Name, settings.SiloAssembly, environment, settings.LogFile));
    }

    /// <summary>Waits until <c>/readyz</c> answers 200; fails when the process exits first or time runs out.</summary>
    public Task WaitUntilReadyAsync(TimeSpan timeout, CancellationToken cancellationToken = default) =>
        _process.WaitUntilHttpOkAsync(new Uri(BaseAddress, "readyz"), timeout, cancellationToken);

    /// <summary>Asks the silo to stop gracefully, as systemd and Kubernetes do.</summary>
    public void Terminate() => _process.Terminate();

    /// <summary>SIGKILL: the process ends at once and runs no shutdown code.</summary>
    public void Kill() => _process.Kill();

    /// <summary>SIGSTOP: the process freezes, as under a long GC pause or a stalled VM, until <see cref="Thaw"/>.</summary>
    public void Freeze() => PosixSignals.Send(ProcessId, PosixSignals.Stop);

    /// <summary>SIGCONT: a frozen process runs on, unaware of the time it lost.</summary>
    public void Thaw() => PosixSignals.Send(ProcessId, PosixSignals.Continue);

    /// <summary>Waits for the process to end; true when it did within <paramref name="timeout"/>.</summary>
    public Task<bool> WaitForExitAsync(TimeSpan timeout, CancellationToken cancellationToken = default) =>
        _process.WaitForExitAsync(timeout, cancellationToken);

    /// <summary>SIGTERM, then SIGKILL when the silo has not stopped within <paramref name="grace"/>.</summary>
    public Task StopAsync(TimeSpan grace) => _process.StopAsync(grace);

    public string ReadLog() => _process.ReadLog();

    public ValueTask DisposeAsync() => _process.DisposeAsync();
}
