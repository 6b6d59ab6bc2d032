namespace OrleansGateway.Tests.Infrastructure;

public static class Eventually
{
    /// <summary>
    /// Polls <paramref name="probe"/> until it returns true; on timeout fails with <paramref name="describe"/>'s
    /// account of the last state seen, so a red test says what it was waiting for and what it saw instead.
    /// </summary>
    public static async Task UntilAsync(Func<Task<bool>> probe, TimeSpan timeout, Func<string> describe, int pollMilliseconds = 100)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!await probe())
        {
            if (DateTime.UtcNow > deadline)
            {
                Assert.Fail($"not reached within {timeout.TotalSeconds:0} s: {describe()}");
            }

            await Task.Delay(pollMilliseconds);
        }
    }
}
