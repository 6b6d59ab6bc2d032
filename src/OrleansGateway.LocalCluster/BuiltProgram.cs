namespace OrleansGateway.LocalCluster;

/// <summary>Finds the programs of this repository that <c>ogw up</c> and the tests start as processes.</summary>
public static class BuiltProgram
{
    /// <summary>The silo: <c>OGW_SILO_PATH</c> when set, else the build beside this program.</summary>
    public static string Silo => Locate("OrleansGateway.Silo", "OrleansGateway.Silo.dll", "OGW_SILO_PATH");

    /// <summary>The operator dashboard: <c>OGW_DASHBOARD_PATH</c> when set, else the build beside this program.</summary>
    public static string Dashboard => Locate("OrleansGateway.Dashboard", "OrleansGateway.Dashboard.dll", "OGW_DASHBOARD_PATH");

    /// <summary>The <c>ogw</c> CLI, built beside this program.</summary>
    public static string Cli => Locate("OrleansGateway.Cli", "ogw.dll", "OGW_CLI_PATH");

    /// <summary>
    /// Checks, before anything starts, that the programs a local cluster runs are there: the silo, and the dashboard
    /// when <paramref name="withDashboard"/>. A <see cref="LocalClusterException"/> says what is missing: an installed
    /// <c>ogw</c> (a .NET tool) was built outside any source tree and brings neither.
    /// </summary>
    public static void RequireLocalCluster(bool withDashboard)
    {
        _ = Silo;
        if (withDashboard)
        {
            _ = Dashboard;
        }
    }

    /// <summary>
    /// The override variable when set; else <c>src/&lt;project&gt;/bin/&lt;configuration&gt;/&lt;framework&gt;</c> of the
    /// source tree this program was built in, with this program's configuration and framework.
    /// </summary>
    private static string Locate(string project, string assembly, string overrideVariable)
    {
        if (Environment.GetEnvironmentVariable(overrideVariable) is { Length: > 0 } configured)
        {
            return File.Exists(configured) ? configured : throw new LocalClusterException($"{overrideVariable}={configured} does not exist");
        }

        var frameworkDirectory = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
        var configuration = frameworkDirectory.Parent?.Name ?? "Debug";
        if (SourceTree is not { } root)
        {
            throw new LocalClusterException($"this ogw runs outside a source tree and has no {assembly} to start: run `ogw up` and `ogw demo` in a clone of " +
                "the repository (dotnet run --project src/OrleansGateway.Cli -- up), or set OGW_SILO_PATH and OGW_DASHBOARD_PATH to a build's " +
                "OrleansGateway.Silo.dll and OrleansGateway.Dashboard.dll");
        }

        var candidate = Path.Combine(root, "src", project, "bin", configuration, frameworkDirectory.Name, assembly);
        return File.Exists(candidate)
            ? candidate
            : throw new LocalClusterException($"{project} is not built: {candidate} is missing (dotnet build)");
    }

    /// <summary>The source tree this program was built in (the folder of <c>OrleansGateway.sln</c>), or null.</summary>
    public static string? SourceTree
    {
        get
        {
            for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
            {
                if (File.Exists(Path.Combine(directory.FullName, "OrleansGateway.sln")))
                {
                    return directory.FullName;
                }
            }

            return null;
        }
    }
}
