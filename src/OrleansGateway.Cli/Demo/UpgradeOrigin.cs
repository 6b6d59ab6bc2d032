using System.Text.RegularExpressions;
using OrleansGateway.Cli.Commands;
using OrleansGateway.LocalCluster;
using OrleansGateway.Storage;
using Spectre.Console;

namespace OrleansGateway.Cli.Demo;

/// <summary>
/// What a rolling upgrade starts from: a release of <c>upgrade/releases</c> or any commit of the history, built, with
/// the schema its silos run on.
/// </summary>
/// <param name="Label">The release's version, else the ref as given.</param>
public sealed partial record UpgradeOrigin(string Label, ReleasePrograms Programs, int Schema)
{
    public string ShortCommit => Programs.Commit[..7];

    /// <summary>
    /// Resolves <paramref name="from"/> (a release's version or a git ref; null for the last release) and builds it,
    /// saying so on the console. Every failure is a <see cref="CliError"/>.
    /// </summary>
    public static async Task<UpgradeOrigin> BuildAsync(string? from, CancellationToken cancellationToken)
    {
        try
        {
            var releases = ReleaseBuild.Releases();
            var named = from is null ? ReleaseBuild.Latest() : releases.FirstOrDefault(release => release.Version == from);
            var commit = await ReleaseBuild.ResolveCommitAsync(named?.Commit ?? from!, cancellationToken);
            var release = named ?? releases.FirstOrDefault(candidate => candidate.Commit == commit);
            var label = release?.Version ?? from!;

            AnsiConsole.WriteLine($"building {label} ({commit[..7]}) ...");
            var programs = await ReleaseBuild.BuildAsync(commit, cancellationToken);
            var schema = release?.Schema ?? HighestScript(programs.SourceDirectory);
            if (schema > SchemaMigrator.LatestVersion)
            {
                throw new CliError($"{label} runs on schema {schema}, newer than this build's {SchemaMigrator.LatestVersion}: it is no upgrade to this build");
            }

            return new UpgradeOrigin(label, programs, schema);
        }
        catch (InvalidOperationException exception)
        {
            // A failed build says more on the lines after the first; its build.log keeps all of it.
            throw new CliError($"--from {from ?? "(the last release)"}: {exception.Message.Split('\n')[0].Trim()}");
        }
    }

    /// <summary>For a commit that is no release: the highest <c>sql/NNN_*.sql</c> of its tree.</summary>
    private static int HighestScript(string sourceDirectory)
    {
        var scripts = Directory.Exists(Path.Combine(sourceDirectory, "sql"))
            ? Directory.GetFiles(Path.Combine(sourceDirectory, "sql"), "*.sql").Select(file => ScriptNumber().Match(Path.GetFileName(file))).Where(match => match.Success)
            : [];
        return scripts.Select(match => int.Parse(match.Groups[1].Value)).DefaultIfEmpty(0).Max() is > 0 and var highest
            ? highest
            : throw new InvalidOperationException($"{sourceDirectory} has no sql/NNN_*.sql scripts");
    }

    [GeneratedRegex(@"^(\d{3})_.*\.sql$")]
    private static partial Regex ScriptNumber();
}
