using System.Diagnostics;
using System.Text;

namespace OrleansGateway.LocalCluster;

/// <summary>A release in production: a row of <c>upgrade/releases</c>.</summary>
public sealed record Release(string Version, string Commit, int Schema, string Notes);

/// <summary>The programs of one commit, built from its own sources.</summary>
public sealed record ReleasePrograms(string Commit, string SourceDirectory, string Silo, string Cli);

/// <summary>
/// Builds an old release of this repository from its commit, for rolling-upgrade tests and demos that run its silos
/// beside the current build's. Each commit is built once into a cache outside the repository (so that this tree's
/// <c>Directory.Build.props</c> does not leak into it) and reused by every later run.
/// </summary>
public static class ReleaseBuild
{
    private const string CompleteMarker = ".ogw-build-complete";
    private static readonly string[] Projects = ["src/OrleansGateway.Silo", "src/OrleansGateway.Cli"];

    /// <summary>Where built releases are kept: <c>OGW_RELEASE_CACHE</c>, else <c>ogw-releases</c> in the temp folder.</summary>
    public static string CacheDirectory =>
        Environment.GetEnvironmentVariable("OGW_RELEASE_CACHE") is { Length: > 0 } configured
            ? configured
            : Path.Combine(Path.GetTempPath(), "ogw-releases");

    /// <summary>The releases of <c>upgrade/releases</c> in the source tree, oldest first.</summary>
    public static IReadOnlyList<Release> Releases() => ParseReleases(File.ReadAllText(Path.Combine(SourceTree, "upgrade", "releases")));

    /// <summary>The newest release: the one rolling upgrades start from.</summary>
    public static Release Latest() =>
        Releases() is { Count: > 0 } releases ? releases[^1] : throw new InvalidOperationException("upgrade/releases lists no release");

    /// <summary>Rows of <c>version commit schema notes...</c>; blank lines and <c>#</c> comments are skipped.</summary>
    public static IReadOnlyList<Release> ParseReleases(string table)
    {
        var releases = new List<Release>();
        foreach (var line in table.Split('\n').Select(l => l.Trim()).Where(l => l.Length > 0 && !l.StartsWith('#')))
        {
            var columns = line.Split((char[]?)null, 4, StringSplitOptions.RemoveEmptyEntries);
            if (columns.Length < 3 || !int.TryParse(columns[2], out var schema))
            {
                throw new FormatException($"upgrade/releases: expected 'version commit schema notes', got '{line}'");
            }

            releases.Add(new Release(columns[0], columns[1], schema, columns.Length > 3 ? columns[3] : ""));
        }

        return releases;
    }

    /// <summary>
    /// The silo and <c>ogw</c> of <paramref name="commitOrRef"/>, built with <c>dotnet build -c Debug</c> unless a
    /// finished build of that commit is in the cache. Concurrent callers (parallel test classes, a test and a demo)
    /// wait for one build instead of building side by side.
    /// </summary>
    public static async Task<ReleasePrograms> BuildAsync(string commitOrRef, CancellationToken cancellationToken = default)
    {
        var commit = await ResolveCommitAsync(commitOrRef, cancellationToken);
        var directory = Path.Combine(CacheDirectory, commit);
        var programs = new ReleasePrograms(commit, directory,
            Path.Combine(directory, "src", "OrleansGateway.Silo", "bin", "Debug", "net10.0", "OrleansGateway.Silo.dll"),
            Path.Combine(directory, "src", "OrleansGateway.Cli", "bin", "Debug", "net10.0", "ogw.dll"));
        if (IsBuilt(programs))
        {
            return programs;
        }

        Directory.CreateDirectory(CacheDirectory);
        await using var buildLock = await LockAsync(Path.Combine(CacheDirectory, $"{commit}.lock"), cancellationToken);
        if (IsBuilt(programs))
        {
            return programs;
        }

        // What is there is a build that did not finish: start over from clean sources.
        if (Directory.Exists(directory))
        {
            Directory.Delete(directory, recursive: true);
        }

        Directory.CreateDirectory(directory);
        await ExtractAsync(commit, directory, cancellationToken);
        foreach (var project in Projects)
        {
            await DotnetBuildAsync(directory, project, cancellationToken);
        }

        foreach (var program in new[] { programs.Silo, programs.Cli })
        {
            if (!File.Exists(program))
            {
                throw new InvalidOperationException($"the build of {commit} succeeded but {program} is missing");
            }
        }

        await File.WriteAllTextAsync(Path.Combine(directory, CompleteMarker), $"{DateTimeOffset.UtcNow:O}\n", cancellationToken);
        return programs;
    }

    private static string SourceTree =>
        BuiltProgram.SourceTree ?? throw new InvalidOperationException("not run from the source tree: no OrleansGateway.sln above " + AppContext.BaseDirectory);

    private static bool IsBuilt(ReleasePrograms programs) =>
        File.Exists(Path.Combine(programs.SourceDirectory, CompleteMarker)) && File.Exists(programs.Silo) && File.Exists(programs.Cli);

    /// <summary>The full commit id of <paramref name="commitOrRef"/>; an <see cref="InvalidOperationException"/> saying how to fetch it when the clone lacks it.</summary>
    public static async Task<string> ResolveCommitAsync(string commitOrRef, CancellationToken cancellationToken = default)
    {
        var resolved = await RunAsync("git", ["-C", SourceTree, "rev-parse", "--verify", "--quiet", $"{commitOrRef}^{{commit}}"], cancellationToken);
        if (resolved.ExitCode == 0)
        {
            return resolved.Output.Trim();
        }

        var shallow = await RunAsync("git", ["-C", SourceTree, "rev-parse", "--is-shallow-repository"], cancellationToken);
        var hint = shallow.Output.Trim() == "true"
            ? "this clone is shallow: run `git fetch --unshallow` to fetch the full history"
            : "fetch the full history (`git fetch --unshallow`, or `git fetch origin " + commitOrRef + "`)";
        throw new InvalidOperationException($"release commit {commitOrRef} is not in the history of {SourceTree}; {hint}");
    }

    /// <summary>The file lock of one commit's build; another holder (another process too) makes this wait.</summary>
    private static async Task<FileStream> LockAsync(string lockFile, CancellationToken cancellationToken)
    {
        while (true)
        {
            try
            {
                return new FileStream(lockFile, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            }
            catch (IOException)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(500), cancellationToken);
            }
        }
    }

    /// <summary><c>git archive &lt;commit&gt; | tar -x</c>: the commit's files only, no .git and no work tree of ours.</summary>
    private static async Task ExtractAsync(string commit, string directory, CancellationToken cancellationToken)
    {
        using var git = StartProcess("git", ["-C", SourceTree, "archive", "--format=tar", commit], redirectInput: false);
        using var tar = StartProcess("tar", ["-x", "-C", directory], redirectInput: true);
        var gitErrors = git.StandardError.ReadToEndAsync(cancellationToken);
        var tarErrors = tar.StandardError.ReadToEndAsync(cancellationToken);
        await git.StandardOutput.BaseStream.CopyToAsync(tar.StandardInput.BaseStream, cancellationToken);
        tar.StandardInput.Close();
        await Task.WhenAll(git.WaitForExitAsync(cancellationToken), tar.WaitForExitAsync(cancellationToken));
        if (git.ExitCode != 0 || tar.ExitCode != 0)
        {
            throw new InvalidOperationException($"cannot extract {commit} into {directory}: {await gitErrors}{await tarErrors}".Trim());
        }
    }

    private static async Task DotnetBuildAsync(string directory, string project, CancellationToken cancellationToken)
    {
        // No build servers: a node or compiler server left running would hold the redirected output open, and
        // would outlive the build by minutes on a machine that others build on too.
        var build = await RunAsync("dotnet",
            ["build", project, "-c", "Debug", "-nologo", "-nodeReuse:false", "-p:UseSharedCompilation=false"], cancellationToken, directory);
        await File.AppendAllTextAsync(Path.Combine(directory, "build.log"), build.Output, cancellationToken);
        if (build.ExitCode != 0)
        {
            var tail = string.Join("\n", build.Output.Split('\n').TakeLast(30));
            throw new InvalidOperationException($"dotnet build {project} of {Path.GetFileName(directory)} failed (exit code {build.ExitCode}):\n{tail}");
        }
    }

    private sealed record ProcessResult(int ExitCode, string Output);

    /// <summary>Runs a program to its end; stdout and stderr together, in order.</summary>
    private static async Task<ProcessResult> RunAsync(string program, IReadOnlyList<string> arguments, CancellationToken cancellationToken,
        string? workingDirectory = null)
    {
        var output = new StringBuilder();
        using var process = StartProcess(program, arguments, redirectInput: false, workingDirectory);
        process.OutputDataReceived += (_, e) => Append(output, e.Data);
        process.ErrorDataReceived += (_, e) => Append(output, e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            await process.WaitForExitAsync(cancellationToken);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }

        lock (output)
        {
            return new ProcessResult(process.ExitCode, output.ToString());
        }
    }

    private static Process StartProcess(string program, IReadOnlyList<string> arguments, bool redirectInput, string? workingDirectory = null)
    {
        var startInfo = new ProcessStartInfo(program)
        {
            RedirectStandardInput = redirectInput,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = workingDirectory ?? Path.GetTempPath(),
        };
        foreach (var argument in arguments)
        {
            startInfo.ArgumentList.Add(argument);
        }

        // Under `dotnet test` or `dotnet run` the outer build's MSBuild is announced in the environment; the
        // release's build must resolve its own, not inherit that one.
        foreach (var variable in startInfo.Environment.Keys.Where(k => k.StartsWith("MSBuild", StringComparison.OrdinalIgnoreCase)).ToList())
        {
            startInfo.Environment.Remove(variable);
        }

        startInfo.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        startInfo.Environment["DOTNET_NOLOGO"] = "1";
        return Process.Start(startInfo) ?? throw new InvalidOperationException($"cannot start {program}");
    }

    private static void Append(StringBuilder output, string? line)
    {
        if (line is not null)
        {
            lock (output)
            {
                output.AppendLine(line);
            }
        }
    }
}
