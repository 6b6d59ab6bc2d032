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
    /// The override variable when set; else <c>src/&lt;project&gt;/bin/&lt;configuration&gt;/&lt;framework&gt;</c> of the
    /// source tree this program was built in, with this program's configuration and framework.
    /// </summary>
    private static string Locate(string project, string assembly, string overrideVariable)
    {
        if (Environment.GetEnvironmentVariable(overrideVariable) is { Length: > 0 } configured)
        {
            return File.Exists(configured) ? configured : throw new FileNotFoundException($"{overrideVariable}={configured} does not exist");
        }

        var frameworkDirectory = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
        var configuration = frameworkDirectory.Parent?.Name ?? "Debug";
        if (SourceTree is not { } root)
        {
            throw new FileNotFoundException($"cannot find {assembly}: run ogw from the source tree or set {overrideVariable}");
        }

        var candidate = Path.Combine(root, "src", project, "bin", configuration, frameworkDirectory.Name, assembly);
        return File.Exists(candidate)
            ? candidate
            : throw new FileNotFoundException($"{project} is not built: {candidate} is missing (dotnet build)");
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
