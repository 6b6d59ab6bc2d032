using OrleansGateway.Cli.Commands;
using OrleansGateway.LocalCluster;
using OrleansGateway.Tests.Infrastructure;

namespace OrleansGateway.Tests.Cli;

// ogw as a .NET tool: packed, installed from a folder, run from anywhere.
public sealed partial class OperatorCommandTests
{
    private static readonly TimeSpan DotnetTimeout = TimeSpan.FromMinutes(3);

    /// <summary>
    /// <c>dotnet pack</c> of the CLI (the build the tests run, <c>--no-build</c>: packing is what is tested, not compiling)
    /// into a folder, <c>dotnet tool install --tool-path</c> from that folder alone, then the installed <c>ogw</c> in a
    /// folder outside the repository, with an environment that names neither dashboard nor token.
    /// </summary>
    [Fact]
    public async Task The_packed_tool_installs_from_a_folder_and_works_outside_the_source_tree()
    {
        var root = Directory.CreateTempSubdirectory("ogw-tool-").FullName;
        var (packages, tools, work, home) = (Path.Combine(root, "packages"), Path.Combine(root, "tools"), Path.Combine(root, "work"), Path.Combine(root, "home"));
        Directory.CreateDirectory(work);
        var configuration = Directory.GetParent(Path.GetDirectoryName(BuiltProgram.Cli)!)!.Name;
        // Only the folder: nothing may come from nuget.org (or a cache of an earlier pack of the same version).
        var config = Path.Combine(root, "nuget.config");
        await File.WriteAllTextAsync(config, $"""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration><packageSources><clear /><add key="ogw" value="{packages}" /></packageSources></configuration>
            """);
        var dotnet = new Dictionary<string, string?>
        {
            ["NUGET_PACKAGES"] = Path.Combine(root, "nuget-cache"),
            ["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1",
            ["DOTNET_NOLOGO"] = "1",
        };
        // Under `dotnet test` the outer build's MSBuild is announced in the environment; the pack must use its own.
        foreach (var variable in Environment.GetEnvironmentVariables().Keys.Cast<string>().Where(k => k.StartsWith("MSBuild", StringComparison.OrdinalIgnoreCase)))
        {
            dotnet[variable] = null;
        }

        var pack = await OgwProcess.RunProgramAsync("dotnet",
            ["pack", Path.Combine(BuiltProgram.SourceTree!, "src", "OrleansGateway.Cli"), "-c", configuration, "--no-build", "-o", packages, "-nodeReuse:false"],
            work, dotnet, DotnetTimeout);
        Assert.True(pack.ExitCode == 0, pack.Output);
        var install = await OgwProcess.RunProgramAsync("dotnet", ["tool", "install", "--tool-path", tools, "--configfile", config, "OrleansGateway.Cli"], work, dotnet, DotnetTimeout);
        Assert.True(install.ExitCode == 0, install.Output);

        var ogw = Path.Combine(tools, "ogw");
        var tokenFile = Path.Combine(root, "token");
        await File.WriteAllTextAsync(tokenFile, DashboardHarness.OperatorToken + "\n");
        var bare = new Dictionary<string, string?>
        {
            ["OGW_URL"] = null, ["OGW_OPERATOR_TOKEN"] = null, ["OGW_OPERATOR_TOKEN_FILE"] = null, ["OGW_SILO_PATH"] = null, ["OGW_DASHBOARD_PATH"] = null,
            ["OGW_HOME"] = home,
        };
        var help = await Run("--help");
        var sessions = await Run("sessions", "--url", cluster.Url, "--token-file", tokenFile, "--silo", Seeded, "--phase", "quarantined");
        var closed = await Run("status", "--url", $"http://127.0.0.1:{PostgresFixture.FreeTcpPort()}/", "--token-file", tokenFile);
        var up = await Run("up");
        var demo = await Run("demo", "chaos");

        Assert.True(help.ExitCode == 0, help.Output);
        Assert.Contains("sessions", help.Output);
        Assert.True(sessions.ExitCode == 0, sessions.Output);
        Assert.Equal(["cli-poison-1"], SessionIds(sessions.Output));
        Assert.Equal(ExitCodes.Unavailable, closed.ExitCode);
        Assert.StartsWith("ogw: cannot reach the dashboard at ", OneLine(closed.Output));
        foreach (var local in new[] { up, demo })
        {
            Assert.Equal(ExitCodes.Failed, local.ExitCode);
            Assert.StartsWith("ogw: this ogw runs outside a source tree and has no OrleansGateway.Silo.dll to start: run `ogw up` and `ogw demo` in a clone of " +
                "the repository (dotnet run --project src/OrleansGateway.Cli -- up), or set OGW_SILO_PATH and OGW_DASHBOARD_PATH", OneLine(local.Output));
        }

        Assert.False(Directory.Exists(Path.Combine(home, "postgres")), "ogw up or demo started a database before it said what it lacks");
        Directory.Delete(root, recursive: true);

        Task<(int ExitCode, string Output)> Run(params string[] arguments) => OgwProcess.RunProgramAsync(ogw, arguments, work, bare, TimeSpan.FromSeconds(60));
    }
}
