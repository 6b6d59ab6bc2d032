namespace OrleansGateway.Tests.Infrastructure;

/// <summary>The checkout the tests run from: the folder above the test binary that holds the solution.</summary>
public static class RepoRoot
{
    private static readonly Lazy<string> Found = new(Find);

    public static string Path => Found.Value;

    private static string Find()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(System.IO.Path.Combine(directory.FullName, "OrleansGateway.sln")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException($"no folder above {AppContext.BaseDirectory} holds OrleansGateway.sln");
    }
}
