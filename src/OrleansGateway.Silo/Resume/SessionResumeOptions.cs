using Microsoft.Extensions.Options;

namespace OrleansGateway.Resume;

/// <summary>What a stop of this silo means for the sessions it runs.</summary>
public enum StopIntent
{
    /// <summary>The silo goes away: interrupted sessions are marked <c>shutdown_timeout</c>.</summary>
    Shutdown,
    /// <summary>The silo comes back (upgrade, restart): interrupted sessions are marked <c>restart_timeout</c>.</summary>
    Restart,
}

/// <summary>The <c>Gateway:Resume</c> section: how a stop drains and how interrupted sessions are resumed.</summary>
public sealed class SessionResumeOptions
{
    public const string Section = "Gateway:Resume";

    /// <summary>How long a stop waits for running turns to finish after the premark.</summary>
    public TimeSpan DrainTimeout { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>After a drain timeout: how long cancelled turns get to checkpoint their in-flight step.</summary>
    public TimeSpan InterruptGrace { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Time the rest of the stop needs after the drain (grain deactivation, leaving the cluster).</summary>
    public TimeSpan StopMargin { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Refuse to start when the drain budget does not fit the host's shutdown timeout (else: warn).</summary>
    public bool StrictBudget { get; set; }

    /// <summary>What a stop of this silo is, unless an operator says otherwise for one stop.</summary>
    public StopIntent StopIntent { get; set; } = StopIntent.Shutdown;

    /// <summary>Markers older than this are stale: shown to operators, never resumed automatically.</summary>
    public TimeSpan FreshnessWindow { get; set; } = GatewayDefaults.FreshnessWindow;

    /// <summary>Resumes without forward progress after which a session is quarantined instead.</summary>
    public int MaxAttempts { get; set; } = 3;

    /// <summary>
    /// Pace of this silo's resumes (a token bucket), so a restart does not stampede the cluster. The default lets
    /// one silo bring back 1000 sessions in well under 2 s when the machine keeps up.
    /// </summary>
    public int MaxResumesPerSecond { get; set; } = 2000;

    /// <summary>How often the sweeper looks for work besides membership changes.</summary>
    public TimeSpan SweepInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// How often a silo's sweep also looks for idle sessions whose grain state holds unfinished work (a join of the
    /// ledger with the grain state table, so not on every sweep).
    /// </summary>
    public TimeSpan IdleAuditInterval { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Sessions one sweep leases at a time.</summary>
    public int SweepBatchSize { get; set; } = 200;

    /// <summary>How long a leased session is left to its sweeper before another may try.</summary>
    public TimeSpan ResumeLease { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// While silos of several versions serve, only the newest resume interrupted sessions and take new ones, so that a
    /// rolling upgrade interrupts each session at most once. Off: every silo alike (the benchmark's baseline).
    /// </summary>
    public bool PreferNewestVersion { get; set; } = true;

    /// <summary>
    /// A silo of another cluster on this database (blue/green) counts as dead once its membership row is this old; unset:
    /// twice what Orleans allows before a silo that stopped writing it is declared dead
    /// (<c>IAmAliveTablePublishTimeout</c> x <c>NumMissedTableIAmAliveLimit</c>), at least 30 s.
    /// </summary>
    public TimeSpan? ForeignSiloTimeout { get; set; }

    /// <summary>A session owner missing from every cluster's membership rows counts as dead after this long.</summary>
    public TimeSpan VanishedOwnerGrace { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>The drain budget: what a stop needs before Orleans' own stop can finish.</summary>
    public TimeSpan StopBudget => DrainTimeout + InterruptGrace + StopMargin;

    public sealed class Validator : IValidateOptions<SessionResumeOptions>
    {
        public ValidateOptionsResult Validate(string? name, SessionResumeOptions options)
        {
            var problems = new List<string>();
            void Positive(TimeSpan value, string key, bool zeroAllowed = false)
            {
                if (value < TimeSpan.Zero || (!zeroAllowed && value == TimeSpan.Zero))
                {
                    problems.Add($"{Section}:{key} must be {(zeroAllowed ? "zero or more" : "positive")}, not {value}");
                }
            }

            Positive(options.DrainTimeout, nameof(DrainTimeout), zeroAllowed: true);
            Positive(options.InterruptGrace, nameof(InterruptGrace), zeroAllowed: true);
            Positive(options.StopMargin, nameof(StopMargin), zeroAllowed: true);
            Positive(options.FreshnessWindow, nameof(FreshnessWindow));
            Positive(options.SweepInterval, nameof(SweepInterval));
            Positive(options.IdleAuditInterval, nameof(IdleAuditInterval));
            Positive(options.ResumeLease, nameof(ResumeLease));
            Positive(options.VanishedOwnerGrace, nameof(VanishedOwnerGrace));
            if (options.ForeignSiloTimeout is { } foreign)
            {
                Positive(foreign, nameof(ForeignSiloTimeout));
            }
            if (options.MaxAttempts < 1)
            {
                problems.Add($"{Section}:{nameof(MaxAttempts)} must be at least 1, not {options.MaxAttempts}");
            }

            if (options.MaxResumesPerSecond < 1)
            {
                problems.Add($"{Section}:{nameof(MaxResumesPerSecond)} must be at least 1, not {options.MaxResumesPerSecond}");
            }

            if (options.SweepBatchSize is < 1 or > 10_000)
            {
                problems.Add($"{Section}:{nameof(SweepBatchSize)} must be between 1 and 10000, not {options.SweepBatchSize}");
            }

            return problems.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(problems);
        }
    }
}
