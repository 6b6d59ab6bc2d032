using System.Diagnostics;
using OrleansGateway.LocalCluster;
using OrleansGateway.Storage;
using Xunit.Abstractions;

namespace OrleansGateway.Tests.Upgrade;

public sealed class ReleaseBuildTests(ITestOutputHelper output)
{
    [Fact]
    public void The_release_table_skips_comments_and_keeps_the_notes_whole()
    {
        var releases = ReleaseBuild.ParseReleases("""
            # version commit schema notes
            0.1   aaaa  14  first release; accepts only schema 14

            0.2   bbbb  15
            """);

        Assert.Equal([new Release("0.1", "aaaa", 14, "first release; accepts only schema 14"), new Release("0.2", "bbbb", 15, "")], releases);
        Assert.Throws<FormatException>(() => ReleaseBuild.ParseReleases("0.3 cccc fifteen"));
    }

    [Fact]
    public void The_latest_release_is_a_full_commit_at_a_schema_this_build_has()
    {
        var latest = ReleaseBuild.Latest();

        Assert.Matches("^[0-9a-f]{40}$", latest.Commit);
        Assert.Contains(SchemaMigrator.Scripts, script => script.Version == latest.Schema);
    }

    [Fact]
    public async Task A_commit_missing_from_the_history_says_to_fetch_it()
    {
        var missing = await Assert.ThrowsAsync<InvalidOperationException>(() => ReleaseBuild.BuildAsync(new string('0', 40)));

        Assert.Contains("git fetch --unshallow", missing.Message);
    }

    [Fact]
    public async Task The_latest_release_builds_once_and_is_reused()
    {
        var latest = ReleaseBuild.Latest();
        var watch = Stopwatch.StartNew();
        var programs = await ReleaseBuild.BuildAsync(latest.Commit);
        output.WriteLine($"{latest.Version} built or found in {watch.Elapsed.TotalSeconds:0.0} s: {programs.Silo}");

        Assert.Equal(latest.Commit, programs.Commit);
        Assert.True(File.Exists(programs.Silo) && File.Exists(programs.Cli));
        Assert.False(programs.SourceDirectory.StartsWith(BuiltProgram.SourceTree!, StringComparison.Ordinal));

        // Concurrent callers of a finished build get it at once (the release's ref resolves to the same commit).
        watch.Restart();
        var again = await Task.WhenAll(ReleaseBuild.BuildAsync(latest.Commit[..12]), ReleaseBuild.BuildAsync(latest.Commit));
        Assert.All(again, p => Assert.Equal(programs, p));
        Assert.InRange(watch.Elapsed, TimeSpan.Zero, TimeSpan.FromSeconds(10));
    }
}
