using System.Collections.Concurrent;
using System.Diagnostics;
using OrleansGateway.LocalCluster;

namespace OrleansGateway.Tests.Infrastructure;

/// <summary>The real <c>ogw</c> program in a process of its own, as a user runs it.</summary>
public sealed class OgwProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly ConcurrentQueue<string> _lines = new();

    private OgwProcess(Process process) => _process = process;

    public string Output => string.Join("\n", _lines);

    public int ExitCode => _process.ExitCode;

    public static OgwProcess Start(IReadOnlyDictionary<string, string> environment, params string[] arguments) => StartPiped(environment, input: null, arguments);

    /// <summary>Starts ogw with <paramref name="input"/> (when not null) as its whole standard input, closed after it, as a pipe gives it.</summary>
    public static OgwProcess StartPiped(IReadOnlyDictionary<string, string> environment, string? input, string[] arguments) =>
        StartProgram("dotnet", [BuiltProgram.Cli, .. arguments], Path.GetTempPath(), environment.ToDictionary(e => e.Key, e => (string?)e.Value), input);

    /// <summary>
    /// Any program, run as ogw is: the <c>ogw</c> that <c>dotnet tool install</c> put on disk, or <c>dotnet</c> itself. A
    /// variable of <paramref name="environment"/> whose value is null is removed from the environment this process passes on.
    /// </summary>
    public static OgwProcess StartProgram(string program, IReadOnlyList<string> arguments, string workingDirectory,
        IReadOnlyDictionary<string, string?> environment, string? input = null)
    {
        var startInfo = new ProcessStartInfo(program)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = input is not null,
            WorkingDirectory = workingDirectory,
        };
        foreach (var argument in arguments)
        {
            startInfo.ArgumentList.Add(argument);
        }

        foreach (var (key, value) in environment)
        {
            if (value is null)
            {
                startInfo.Environment.Remove(key);
            }
            else
            {
                startInfo.Environment[key] = value;
            }
        }

        var process = new Process { StartInfo = startInfo };
        var ogw = new OgwProcess(process);
        process.OutputDataReceived += (_, e) => ogw.Add(e.Data);
        process.ErrorDataReceived += (_, e) => ogw.Add(e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        if (input is not null)
        {
            process.StandardInput.Write(input);
            process.StandardInput.Close();
        }

        return ogw;
    }

    /// <summary>Runs <paramref name="program"/> to completion (see <see cref="StartProgram"/>).</summary>
    public static Task<(int ExitCode, string Output)> RunProgramAsync(string program, IReadOnlyList<string> arguments, string workingDirectory,
        IReadOnlyDictionary<string, string?> environment, TimeSpan timeout) =>
        RunToEndAsync(StartProgram(program, arguments, workingDirectory, environment), $"{program} {string.Join(' ', arguments)}", timeout);

    /// <summary>Runs ogw to completion.</summary>
    public static Task<(int ExitCode, string Output)> RunAsync(IReadOnlyDictionary<string, string> environment, params string[] arguments) =>
        RunPipedAsync(environment, input: null, arguments);

    /// <summary>Runs ogw to completion with <paramref name="input"/> piped to it.</summary>
    public static Task<(int ExitCode, string Output)> RunPipedAsync(IReadOnlyDictionary<string, string> environment, string? input, string[] arguments) =>
        RunToEndAsync(StartPiped(environment, input, arguments), $"ogw {string.Join(' ', arguments)}", TimeSpan.FromSeconds(60));

    private static async Task<(int ExitCode, string Output)> RunToEndAsync(OgwProcess run, string what, TimeSpan timeout)
    {
        await using (run)
        {
            Assert.True(await run.WaitForExitAsync(timeout), $"{what} did not finish:\n{run.Output}");
            return (run.ExitCode, run.Output);
        }
    }

    public Task WaitForOutputAsync(string text, TimeSpan timeout) =>
        Eventually.UntilAsync(() => Task.FromResult(Output.Contains(text, StringComparison.Ordinal) || _process.HasExited && Fail(text)),
            timeout, () => $"ogw never printed \"{text}\":\n{Output}", pollMilliseconds: 200);

    public void Signal(int signal) => PosixSignals.Send(_process.Id, signal);

    public async Task<bool> WaitForExitAsync(TimeSpan timeout)
    {
        using var deadline = new CancellationTokenSource(timeout);
        try
        {
            await _process.WaitForExitAsync(deadline.Token);
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
    }

    private bool Fail(string text)
    {
        Assert.Fail($"ogw exited ({_process.ExitCode}) before printing \"{text}\":\n{Output}");
        return false;
    }

    private void Add(string? line)
    {
        if (line is not null)
        {
            _lines.Enqueue(line);
        }
    }
}
