using Microsoft.Extensions.Options;

namespace OrleansGateway.Agents;

/// <summary>
/// Appends the scripted agent's step trace to <c>&lt;StepTrace&gt;/&lt;pid&gt;.steps</c>, one file per silo process so that
/// no two processes share a file. Each line is flushed to the kernel before the step goes on: a SIGKILL loses none.
/// </summary>
public sealed class StepTraceWriter(IOptions<ScriptedAgentOptions> options, TimeProvider time) : IDisposable
{
    private readonly Lock _lock = new();
    private StreamWriter? _writer;

    public void Record(AgentStep step, StepTraceEvent kind, string outcome = "")
    {
        if (options.Value.StepTrace is not { Length: > 0 } folder)
        {
            return;
        }

        var entry = new StepTraceEntry(time.GetUtcNow(), kind, step.SessionId, step.TurnId, step.Index, step.Execution, Environment.ProcessId, outcome);
        lock (_lock)
        {
            _writer ??= Open(folder);
            _writer.WriteLine(entry.Format());
        }
    }

    public void Dispose()
    {
        lock (_lock)
        {
            _writer?.Dispose();
            _writer = null;
        }
    }

    private static StreamWriter Open(string folder)
    {
        Directory.CreateDirectory(folder);
        var file = new FileStream(Path.Combine(folder, $"{Environment.ProcessId}.steps"), FileMode.Append, FileAccess.Write, FileShare.Read);
        return new StreamWriter(file) { AutoFlush = true };
    }
}
