using System.Collections.Concurrent;
using System.Diagnostics;

namespace OrleansGateway.Tests.Telemetry;

/// <summary>The spans of this process that ended while it listened, from the gateway's, Orleans' and ASP.NET Core's sources.</summary>
public sealed class SpanRecorder : IDisposable
{
    private readonly ActivityListener _listener;

    public SpanRecorder()
    {
        _listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name is "OrleansGateway" or "Microsoft.AspNetCore" || source.Name.StartsWith("Microsoft.Orleans", StringComparison.Ordinal),
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = Ended.Add,
        };
        ActivitySource.AddActivityListener(_listener);
    }

    public ConcurrentBag<Activity> Ended { get; } = [];

    /// <summary>The ended spans named <paramref name="name"/> of session <paramref name="sessionId"/>.</summary>
    public IReadOnlyList<Activity> Of(string name, string sessionId) =>
        [.. Ended.Where(span => span.OperationName == name && span.GetTagItem("ogw.session.id") as string == sessionId)];

    public void Dispose() => _listener.Dispose();
}
