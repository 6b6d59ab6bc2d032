using System.Diagnostics;

namespace OrleansGateway.Cli.Cluster;

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
}

/// <summary>
/// A silo in a process of its own, driven the way an orchestrator drives it: start, wait for <c>/readyz</c>,
/// SIGTERM (graceful stop), SIGKILL (no shutdown code runs at all). Used by <c>ogw up</c> and the tests.
/// </summary>
public sealed class SiloProcess : IAsyncDisposable
{
    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(5) };
    private readonly Process _process;
    private readonly StreamWriter _log;

    private SiloProcess(SiloProcessSettings settings, Process process, StreamWriter log)
    {
        Settings = settings;
        _process = process;
        _log = log;
    }

    public SiloProcessSettings Settings { get; }

    public Uri BaseAddress => new($"http://127.0.0.1:{Settings.HttpPort}/");

    public int ProcessId => _process.Id;

    public bool HasExited => _process.HasExited;

    public static SiloProcess Start(SiloProcessSettings settings)
    {
        // A session of its own, so that Ctrl+C in the terminal of `ogw up` reaches only ogw, which then
        // stops the silos in order instead of every process getting SIGINT at once.
        var startInfo = new ProcessStartInfo("setsid")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = Path.GetTempPath(),
        };
        startInfo.ArgumentList.Add("dotnet");
        startInfo.ArgumentList.Add(BuiltProgram.Silo);
        startInfo.Environment["ConnectionStrings__Postgres"] = settings.ConnectionString;
        startInfo.Environment["Orleans__ClusterId"] = settings.ClusterId;
        startInfo.Environment["Orleans__SiloPort"] = settings.SiloPort.ToString();
        startInfo.Environment["Orleans__GatewayPort"] = settings.GatewayPort.ToString();
        startInfo.Environment["Urls"] = $"http://127.0.0.1:{settings.HttpPort}";
        startInfo.Environment["Logging__Console__FormatterName"] = "simple";
        startInfo.Environment["Logging__Console__FormatterOptions__SingleLine"] = "true";
        startInfo.Environment["Logging__Console__FormatterOptions__TimestampFormat"] = "HH:mm:ss.fff ";
        foreach (var (key, value) in settings.Environment)
        {
            startInfo.Environment[key] = value;
        }

        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(settings.LogFile))!);
        var log = new StreamWriter(settings.LogFile, append: true) { AutoFlush = true };
        var process = new Process { StartInfo = startInfo, EnableRaisingEvents = true };
        process.OutputDataReceived += (_, e) => WriteLine(log, e.Data);
        process.ErrorDataReceived += (_, e) => WriteLine(log, e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return new SiloProcess(settings, process, log);
    }

    /// <summary>Waits until <c>/readyz</c> answers 200; fails when the process exits first or time runs out.</summary>
    public async Task WaitUntilReadyAsync(TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        while (true)
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"{Settings.Name} exited with code {_process.ExitCode} before it was ready: {LastLines(5)}");
            }

            try
            {
                using var response = await Http.GetAsync(new Uri(BaseAddress, "readyz"), deadline.Token);
                if (response.IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }
            catch (TaskCanceledException) when (!deadline.IsCancellationRequested)
            {
                // One probe timed out; the deadline decides.
            }
            catch (OperationCanceledException) when (deadline.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
            {
                throw new TimeoutException($"{Settings.Name} was not ready within {timeout.TotalSeconds:0} s: {LastLines(5)}");
            }

            try
            {
                await Task.Delay(200, deadline.Token);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                throw new TimeoutException($"{Settings.Name} was not ready within {timeout.TotalSeconds:0} s: {LastLines(5)}");
            }
        }
    }

    /// <summary>Asks the silo to stop gracefully, as systemd and Kubernetes do.</summary>
    public void Terminate()
    {
        if (!_process.HasExited)
        {
            PosixSignals.Send(_process.Id, PosixSignals.Terminate);
        }
    }

    /// <summary>SIGKILL: the process ends at once and runs no shutdown code.</summary>
    public void Kill()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
        }
    }

    /// <summary>Waits for the process to end; true when it did within <paramref name="timeout"/>.</summary>
    public async Task<bool> WaitForExitAsync(TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        try
        {
            await _process.WaitForExitAsync(deadline.Token);
            return true;
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return false;
        }
    }

    public int ExitCode => _process.ExitCode;

    /// <summary>SIGTERM, then SIGKILL when the silo has not stopped within <paramref name="grace"/>.</summary>
    public async Task StopAsync(TimeSpan grace)
    {
        Terminate();
        if (!await WaitForExitAsync(grace))
        {
            Kill();
            await _process.WaitForExitAsync();
        }
    }

    public string ReadLog()
    {
        using var stream = new FileStream(Settings.LogFile, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        return new StreamReader(stream).ReadToEnd();
    }

    public async ValueTask DisposeAsync()
    {
        Kill();
        await _process.WaitForExitAsync();
        _process.Dispose();
        lock (_log)
        {
            _log.Dispose();
        }
    }

    private string LastLines(int count) =>
        string.Join(" | ", ReadLog().Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).TakeLast(count));

    private static void WriteLine(StreamWriter log, string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (log)
        {
            if (log.BaseStream.CanWrite)
            {
                log.WriteLine(line);
            }
        }
    }
}
