using Microsoft.Extensions.Options;

namespace OrleansGateway.Upgrade;

/// <summary><c>Gateway:Version</c>: the version this silo publishes, for drills; unset, the build's own.</summary>
public sealed class BuildVersionOptions
{
    public const string Section = "Gateway";

    public string? Version { get; set; }

    public BuildVersion Effective => BuildVersion.TryParse(string.IsNullOrWhiteSpace(Version) ? BuildVersion.Informational : Version, out var version)
        ? version
        : throw new InvalidOperationException($"{Section}:Version '{Version}' is not a version");

    public sealed class Validator : IValidateOptions<BuildVersionOptions>
    {
        public ValidateOptionsResult Validate(string? name, BuildVersionOptions options) =>
            string.IsNullOrWhiteSpace(options.Version) || BuildVersion.TryParse(options.Version, out _)
                ? ValidateOptionsResult.Success
                : ValidateOptionsResult.Fail($"{Section}:Version must be a version such as 0.2.1 or 0.3.0-rc.1, not '{options.Version}'");
    }
}
