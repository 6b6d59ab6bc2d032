using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using OrleansGateway.Operations;
using OrleansGateway.Resume;
using OrleansGateway.Storage;

namespace OrleansGateway.Tests.Cluster;

/// <summary>
/// How a silo decides the way it stops: one operator request is taken, and none once it is stopping; the exit code and
/// the premark reason are the first decision's.
/// </summary>
public sealed class SiloRunStateTests
{
    [Fact]
    public void A_second_request_is_refused_and_the_first_one_decides_the_exit_code_and_the_premark()
    {
        using var host = new Lifetime();
        var runState = new SiloRunState(Options.Create(new SessionResumeOptions()), host);

        Assert.True(runState.TryRequestStop(SiloStopKind.Restart, out var refusal), refusal);
        Assert.False(runState.TryRequestStop(SiloStopKind.Drain, out refusal));
        Assert.Equal("an operator already asked it to restart", refusal);
        Assert.False(runState.TryRequestStop(SiloStopKind.Restart, out _));

        // The request stops the host, which begins the drain: both keep the request's intent.
        host.StopApplication();
        Assert.Equal(ResumeReasons.RestartTimeout, runState.BeginDraining().Reason);
        Assert.Equal(SiloExitCodes.RestartRequested, runState.ExitCode);
    }

    [Fact]
    public void A_silo_told_to_stop_by_its_host_takes_no_request_before_nor_during_its_drain()
    {
        using var host = new Lifetime();
        var runState = new SiloRunState(Options.Create(new SessionResumeOptions()), host);

        // SIGTERM: the host stops before the drain begins.
        host.StopApplication();
        Assert.False(runState.TryRequestStop(SiloStopKind.Restart, out var refusal));
        Assert.Contains("told to stop", refusal);

        var stop = runState.BeginDraining();
        Assert.False(runState.TryRequestStop(SiloStopKind.Restart, out refusal));
        Assert.Equal($"it is draining (stop {stop.StopId}, sessions marked {ResumeReasons.ShutdownTimeout})", refusal);
        Assert.Same(stop, runState.BeginDraining());
        Assert.Equal((SiloExitCodes.Stopped, StopIntent.Shutdown), (runState.ExitCode, runState.StopIntent));
    }

    private sealed class Lifetime : IHostApplicationLifetime, IDisposable
    {
        private readonly CancellationTokenSource _stopping = new();

        public CancellationToken ApplicationStarted => CancellationToken.None;

        public CancellationToken ApplicationStopping => _stopping.Token;

        public CancellationToken ApplicationStopped => CancellationToken.None;

        public void StopApplication() => _stopping.Cancel();

        public void Dispose() => _stopping.Dispose();
    }
}
