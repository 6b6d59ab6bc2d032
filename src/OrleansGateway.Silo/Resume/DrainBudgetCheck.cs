using Microsoft.Extensions.Options;
using Orleans.Runtime;

namespace OrleansGateway.Resume;

/// <summary>
/// At start-up: does premark + drain + interrupt grace + the rest of the stop fit into the host's shutdown
/// timeout? If not, the host cancels the drain halfway and the orchestrator's SIGKILL may follow; the premark
/// still protects every session, but turns that could have finished are interrupted. Warn with the numbers,
/// or refuse to start with <see cref="SessionResumeOptions.StrictBudget"/>.
/// </summary>
internal sealed partial class DrainBudgetCheck(
    IOptions<SessionResumeOptions> options,
    IOptions<HostOptions> hostOptions,
    ILogger<DrainBudgetCheck> logger) : ILifecycleParticipant<ISiloLifecycle>
{
    public void Participate(ISiloLifecycle lifecycle) =>
        lifecycle.Subscribe(nameof(DrainBudgetCheck), ServiceLifecycleStage.RuntimeInitialize, Check);

    private Task Check(CancellationToken cancellationToken)
    {
        var resume = options.Value;
        var shutdownTimeout = hostOptions.Value.ShutdownTimeout;
        if (resume.StopBudget <= shutdownTimeout)
        {
            LogBudgetFits(resume.DrainTimeout, resume.InterruptGrace, resume.StopMargin, resume.StopBudget, shutdownTimeout);
            return Task.CompletedTask;
        }

        var problem = $"drain budget {resume.StopBudget.TotalSeconds:0.#} s (DrainTimeout {resume.DrainTimeout.TotalSeconds:0.#} s + " +
            $"InterruptGrace {resume.InterruptGrace.TotalSeconds:0.#} s + StopMargin {resume.StopMargin.TotalSeconds:0.#} s) exceeds the host's " +
            $"shutdown timeout {shutdownTimeout.TotalSeconds:0.#} s: raise HostOptions:ShutdownTimeout (and the orchestrator's grace period) or lower Gateway:Resume:DrainTimeout";
        if (resume.StrictBudget)
        {
            throw new OrleansConfigurationException($"{problem} (Gateway:Resume:StrictBudget is true)");
        }

        LogBudgetExceeded(problem);
        return Task.CompletedTask;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Drain budget: DrainTimeout {DrainTimeout} + InterruptGrace {InterruptGrace} + StopMargin {StopMargin} = {Budget} fits the host's shutdown timeout {ShutdownTimeout}")]
    private partial void LogBudgetFits(TimeSpan drainTimeout, TimeSpan interruptGrace, TimeSpan stopMargin, TimeSpan budget, TimeSpan shutdownTimeout);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Problem}")]
    private partial void LogBudgetExceeded(string problem);
}
