namespace OrleansGateway.LocalCluster;

/// <summary>
/// A local cluster that cannot start or go on, said in one line the user can act on (a port taken, a silo that
/// never got ready, a database that refused). <c>ogw</c> prints it as it prints its own errors.
/// </summary>
/// <param name="unreachable">A server that could not be reached at all, rather than one that answered no: worth trying later.</param>
public sealed class LocalClusterException(string message, bool unreachable = false) : Exception(message)
{
    public bool Unreachable { get; } = unreachable;
}
