using System.Diagnostics;

namespace OrleansGateway.LocalCluster;

/// <summary>
/// One of this repository's programs (a silo, the dashboard) in a process of its own, its output in a log file,
/// driven the way an orchestrator drives it: start, wait until an HTTP probe answers 200, SIGTERM, SIGKILL.
/// </summary>
public sealed class ProgramProcess : IAsyncDisposable
{
    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(5) };
    private readonly Process _process;
    private readonly StreamWriter _log;

    private ProgramProcess(string name, string logFile, Process process, StreamWriter log)
    {
        Name = name;
        LogFile = logFile;
        _process = process;
        _log = log;
    }

    public string Name { get; }

    public string LogFile { get; }

    public int ProcessId => _process.Id;

    public bool HasExited => _process.HasExited;

    public int ExitCode => _process.ExitCode;

    /// <summary>Starts <c>dotnet <paramref name="assembly"/></c> with <paramref name="environment"/> (<c>Section__Key</c> settings).</summary>
    public static ProgramProcess Start(string name, string assembly, IReadOnlyDictionary<string, string> environment, string logFile)
    {
        // A session of its own, so that Ctrl+C in the terminal of `ogw up` reaches only ogw, which then
        // stops its processes in order instead of every process getting SIGINT at once.
        var startInfo = new ProcessStartInfo("setsid")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = Path.GetTempPath(),
        };
        startInfo.ArgumentList.Add("dotnet");
        startInfo.ArgumentList.Add(assembly);
        startInfo.Environment["Logging__Console__FormatterName"] = "simple";
        startInfo.Environment["Logging__Console__FormatterOptions__SingleLine"] = "true";
        startInfo.Environment["Logging__Console__FormatterOptions__TimestampFormat"] = "HH:mm:ss.fff ";
        foreach (var (key, value) in environment)
        {
            startInfo.Environment[key] = value;
        }

        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(logFile))!);
        var log = new StreamWriter(logFile, append: true) { AutoFlush = true };
        var process = new Process { StartInfo = startInfo, EnableRaisingEvents = true };
        process.OutputDataReceived += (_, e) => WriteLine(log, e.Data);
        process.ErrorDataReceived += (_, e) => WriteLine(log, e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return new ProgramProcess(name, logFile, process, log);
    }

    /// <summary>Waits until <paramref name="probe"/> answers 200; fails when the process exits first or time runs out.</summary>
    public async Task WaitUntilHttpOkAsync(Uri probe, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        var notReady = () => new TimeoutException($"{Name} was not ready within {timeout.TotalSeconds:0} s: {LastLines(5)}");
        while (true)
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"{Name} exited with code {_process.ExitCode} before it was ready: {LastLines(5)}");
            }

            try
            {
                using var response = await Http.GetAsync(probe, deadline.Token);
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
                throw notReady();
            }

            try
            {
                await Task.Delay(200, deadline.Token);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                throw notReady();
            }
        }
    }

    /// <summary>Asks the process to stop gracefully, as systemd and Kubernetes do.</summary>
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

    /// <summary>SIGTERM, then SIGKILL when the process has not stopped within <paramref name="grace"/>.</summary>
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
        using var stream = new FileStream(LogFile, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        return new StreamReader(stream).ReadToEnd();
    }

    public string LastLines(int count) =>
        string.Join(" | ", ReadLog().Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).TakeLast(count));

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
