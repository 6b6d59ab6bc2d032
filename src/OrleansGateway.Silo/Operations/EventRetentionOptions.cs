using Microsoft.Extensions.Options;

namespace OrleansGateway.Operations;

/// <summary>The <c>Gateway:Events</c> section: how long the operators' history is kept.</summary>
public sealed class EventRetentionOptions
{
    public const string Section = "Gateway:Events";

    /// <summary>Events older than this are deleted.</summary>
    public TimeSpan Retention { get; set; } = TimeSpan.FromDays(30);

    /// <summary>How often a silo tries to prune; the advisory lock lets one silo at a time do it.</summary>
    public TimeSpan PruneInterval { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>Rows deleted per statement.</summary>
    public int PruneBatchSize { get; set; } = 1000;

    public sealed class Validator : IValidateOptions<EventRetentionOptions>
    {
        public ValidateOptionsResult Validate(string? name, EventRetentionOptions options)
        {
            var problems = new List<string>();
            if (options.Retention <= TimeSpan.Zero)
            {
                problems.Add($"{Section}:{nameof(Retention)} must be positive, not {options.Retention}");
            }

            if (options.PruneInterval <= TimeSpan.Zero)
            {
                problems.Add($"{Section}:{nameof(PruneInterval)} must be positive, not {options.PruneInterval}");
            }

            if (options.PruneBatchSize is < 1 or > 100_000)
            {
                problems.Add($"{Section}:{nameof(PruneBatchSize)} must be between 1 and 100000, not {options.PruneBatchSize}");
            }

            return problems.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(problems);
        }
    }
}
