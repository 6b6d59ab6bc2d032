using System.Reflection;

namespace OrleansGateway.Upgrade;

/// <summary>
/// A build's version, ordered as SemVer orders it (<c>0.2.0</c> &lt; <c>0.2.1-rc.1</c> &lt; <c>0.2.1</c>); build metadata
/// after <c>+</c> (the commit) is shown but not compared.
/// </summary>
public sealed record BuildVersion(Version Core, string? Prerelease, string Text) : IComparable<BuildVersion>
{
    /// <summary>This build's version and commit, <c>0.2.0+9b4bb3a</c>: the SDK stamps the whole commit, too long for a table.</summary>
    public static string Informational { get; } = ShortenCommit(
        typeof(BuildVersion).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "0.0.0");

    public static bool TryParse(string? text, out BuildVersion version)
    {
        version = null!;
        if (string.IsNullOrWhiteSpace(text))
        {
            return false;
        }

        var withoutMetadata = text.Split('+', 2)[0];
        var parts = withoutMetadata.Split('-', 2);
        if (!Version.TryParse(parts[0], out var core) || parts[0].Count(c => c == '.') < 1)
        {
            return false;
        }

        version = new BuildVersion(core, parts.Length > 1 ? parts[1] : null, text.Trim());
        return true;
    }

    public int CompareTo(BuildVersion? other)
    {
        if (other is null)
        {
            return 1;
        }

        var core = Normalize(Core).CompareTo(Normalize(other.Core));
        if (core != 0)
        {
            return core;
        }

        // A release is newer than its pre-releases; pre-releases compare by their dot-separated identifiers.
        return (Prerelease, other.Prerelease) switch
        {
            (null, null) => 0,
            (null, _) => 1,
            (_, null) => -1,
            var (mine, theirs) => ComparePrerelease(mine, theirs),
        };
    }

    public override string ToString() => Text;

    private static string ShortenCommit(string version) =>
        version.Split('+', 2) is [var release, { Length: 40 } commit] && commit.All(char.IsAsciiHexDigit) ? $"{release}+{commit[..7]}" : version;

    // 1.2 and 1.2.0 are the same version.
    private static Version Normalize(Version version) =>
        new(version.Major, version.Minor, Math.Max(version.Build, 0), Math.Max(version.Revision, 0));

    private static int ComparePrerelease(string mine, string theirs)
    {
        var a = mine.Split('.');
        var b = theirs.Split('.');
        for (var i = 0; i < Math.Min(a.Length, b.Length); i++)
        {
            var order = (int.TryParse(a[i], out var x), int.TryParse(b[i], out var y)) switch
            {
                (true, true) => x.CompareTo(y),
                (true, false) => -1,
                (false, true) => 1,
                _ => string.CompareOrdinal(a[i], b[i]),
            };
            if (order != 0)
            {
                return order;
            }
        }

        return a.Length.CompareTo(b.Length);
    }
}
