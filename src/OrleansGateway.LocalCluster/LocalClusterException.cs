namespace OrleansGateway.LocalCluster;

/// <summary>
/// A local cluster that cannot start or go on, said in one line the user can act on (a port taken, a silo that
/// never got ready, a database that refused). <c>ogw</c> prints it as it prints its own errors.
/// </summary>
public sealed class LocalClusterException(string message) : Exception(message);
