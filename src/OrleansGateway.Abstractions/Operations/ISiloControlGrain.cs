using Orleans.CodeGeneration;

namespace OrleansGateway.Operations;

/// <summary>
/// One silo, as operators see and steer it. The key is the silo's address with generation
/// (<c>SiloAddress.ToParsableString()</c>, e.g. <c>10.0.0.5:11111@154855883</c>); the grain always lives on that silo.
/// </summary>
// Version 0 since release 0.1. A changed method is a new method under a new alias and raises the version; the old one
// stays while a release that calls it may run (BackwardCompatible: a silo of version n serves callers of n and below).
[Alias("OrleansGateway.Operations.ISiloControlGrain"), Version(0)]
public interface ISiloControlGrain : IGrainWithStringKey
{
    [Alias("GetReport")]
    Task<SiloReport> GetReportAsync();

    /// <summary>
    /// Stops the silo gracefully (premark, drain, leave the cluster). A restart premarks with <c>restart_timeout</c>
    /// and exits with <see cref="SiloExitCodes.RestartRequested"/> so that its supervisor starts it again.
    /// The silo decides: it takes one request, and none once it is stopping (an earlier request, SIGTERM, its drain);
    /// a refused request changes nothing and the answer says why.
    /// </summary>
    /// <remarks>Its own alias: release 0.1's stop request answers a bare report, and a call of one must never reach the other.</remarks>
    [Alias("RequestStopOnce")]
    Task<SiloStopAnswer> RequestStopAsync(SiloStopKind kind);
}

/// <summary>
/// A silo's answer to a stop request: <see cref="Accepted"/>, or not and <see cref="Refusal"/> says why (e.g.
/// <c>an operator already asked it to restart</c>); with the silo's report either way.
/// </summary>
[GenerateSerializer, Immutable, Alias("OrleansGateway.Operations.SiloStopAnswer")]
public sealed record SiloStopAnswer(
    [property: Id(0)] bool Accepted,
    [property: Id(1)] string? Refusal,
    [property: Id(2)] SiloReport Report);

[GenerateSerializer]
public enum SiloStopKind
{
    /// <summary>Take the silo out: its sessions resume elsewhere, marked <c>shutdown_timeout</c>.</summary>
    Drain,
    /// <summary>Restart the silo: its sessions are marked <c>restart_timeout</c>; it exits to be started again.</summary>
    Restart,
}

/// <summary>What a silo says about itself.</summary>
[GenerateSerializer, Immutable, Alias("OrleansGateway.Operations.SiloReport")]
public sealed record SiloReport(
    [property: Id(0)] string Address,
    [property: Id(1)] bool Active,
    [property: Id(2)] bool Draining,
    [property: Id(3)] int ActiveSessions,
    [property: Id(4)] int RunningTurns,
    [property: Id(5)] string Version,
    [property: Id(6)] SiloStopKind NextStop);

/// <summary>How a silo process ends, for its supervisor (systemd <c>RestartForceExitStatus=</c>, <c>ogw up</c>).</summary>
public static class SiloExitCodes
{
    public const int Stopped = 0;
    public const int StartFailed = 1;

    /// <summary>EX_TEMPFAIL: an operator asked for a restart; start the silo again.</summary>
    public const int RestartRequested = 75;
}
