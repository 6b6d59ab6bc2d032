namespace OrleansGateway.LocalCluster;

// The embedded PostgreSQL server of a local cluster: who starts it, who stops it, and its restart for the chaos soak.
public sealed partial class LocalClusterHost
{
    /// <summary>Whether <see cref="RestartPostgresAsync"/> can: the database is the embedded server, and this ogw runs it.</summary>
    public bool CanRestartPostgres => _embedded is { Stops: true };

    /// <summary>Cuts the embedded server's connections and stops it for <paramref name="downtime"/>, then starts it again.</summary>
    public Task RestartPostgresAsync(TimeSpan downtime, CancellationToken cancellationToken) =>
        _embedded is { Stops: true } embedded
            ? embedded.Server.RestartAsync(downtime, cancellationToken)
            : throw new InvalidOperationException("only the embedded server this ogw runs can be restarted");

    /// <summary>
    /// The embedded server and, when this ogw is the one to stop it, the lock that says so (<see cref="LocalClusterEnvironment.EmbeddedLockFile"/>).
    /// </summary>
    private sealed record EmbeddedPostgres(LocalPostgresServer Server, FileStream? Owner)
    {
        /// <summary>Whether disposing stops the server: one this ogw started or adopted, not another running ogw's.</summary>
        public bool Stops => Owner is not null || !Server.Adopted;
    }

    /// <summary>
    /// Starts the embedded server, or attaches to the one already running on its data folder. An ogw holds a lock
    /// while it owns the server (it stops it on exit); a running server with no such lock held was left behind by an
    /// ogw that was killed, and this one adopts it, stopping it on exit too. With the lock held by a running ogw, the
    /// server is that one's to stop.
    /// </summary>
    private static async Task<EmbeddedPostgres> StartEmbeddedPostgresAsync(CancellationToken cancellationToken)
    {
        var owner = TryLock(LocalClusterEnvironment.EmbeddedLockFile);
        try
        {
            LocalPostgresServer server;
            try
            {
                server = await LocalPostgresServer.StartAsync(LocalClusterEnvironment.PostgresDataDirectory, LocalClusterEnvironment.EmbeddedPostgresPort,
                    throwaway: false, cancellationToken);
            }
            catch (InvalidOperationException exception)
            {
                throw new LocalClusterException($"cannot start the embedded PostgreSQL: {exception.Message}");
            }

            if (owner is not null && server.Adopted)
            {
                server.StopOnDispose();
            }

            return new EmbeddedPostgres(server, owner);
        }
        catch
        {
            owner?.Dispose();
            throw;
        }
    }

    /// <summary>An exclusive lock on <paramref name="path"/> (released when the process ends, however), or null when another process holds it.</summary>
    private static FileStream? TryLock(string path)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        try
        {
            return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException)
        {
            return null;
        }
    }
}
