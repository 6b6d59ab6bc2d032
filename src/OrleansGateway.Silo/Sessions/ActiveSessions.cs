namespace OrleansGateway.Sessions;

/// <summary>How many session activations this silo holds, for the operators' silo view.</summary>
public sealed class ActiveSessions
{
    private int _count;

    public int Count => Volatile.Read(ref _count);

    public void Activated() => Interlocked.Increment(ref _count);

    public void Deactivated() => Interlocked.Decrement(ref _count);
}
