namespace OrleansGateway.Cli.Cluster;

/// <summary>Finds the silo program that <c>ogw up</c> and the tests start.</summary>
public static class SiloBinary
{
    private const string AssemblyName = "OrleansGateway.Silo.dll";

    /// <summary>
    /// <c>OGW_SILO_PATH</c> when set; else the silo built beside this program in the source tree
    /// (<c>src/OrleansGateway.Silo/bin/&lt;configuration&gt;/&lt;framework&gt;</c>, same configuration and framework).
    /// </summary>
    public static string Locate()
    {
        if (Environment.GetEnvironmentVariable("OGW_SILO_PATH") is { Length: > 0 } configured)
        {
            return File.Exists(configured) ? configured : throw new FileNotFoundException($"OGW_SILO_PATH={configured} does not exist");
        }

        var frameworkDirectory = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
        var configuration = frameworkDirectory.Parent?.Name ?? "Debug";
        for (var directory = frameworkDirectory; directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "OrleansGateway.sln")))
            {
                var candidate = Path.Combine(directory.FullName, "src", "OrleansGateway.Silo", "bin", configuration, frameworkDirectory.Name, AssemblyName);
                return File.Exists(candidate)
                    ? candidate
                    : throw new FileNotFoundException($"the silo is not built: {candidate} is missing (dotnet build)");
            }
        }

        throw new FileNotFoundException($"cannot find {AssemblyName}: run ogw from the source tree or set OGW_SILO_PATH");
    }
}
