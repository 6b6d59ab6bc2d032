using System.Diagnostics.Tracing;
using Microsoft.Diagnostics.NETCore.Client;
using Microsoft.Diagnostics.Tracing;
using Microsoft.Diagnostics.Tracing.Parsers;
using Microsoft.Diagnostics.Tracing.Parsers.Clr;

namespace OrleansGateway.Benchmarks;

/// <summary>
/// The managed heap of a .NET process after a full, blocking GC, which this class induces: an EventPipe session (the
/// runtime's diagnostics port) enabling the runtime provider with the GCHeapCollect keyword makes the runtime run a
/// full blocking collection at once (as dotnet-gcdump does), and the GC keyword delivers that collection's
/// GCHeapStats event. <see cref="Live"/> is what survived it (the promoted bytes of every generation, large and pinned
/// object heaps included), i.e. the reachable objects; <see cref="Generations"/> also counts free space between them.
/// No heap dump is written and nothing is added to the silo.
/// </summary>
internal sealed record ManagedHeap(long Live, long Generations)
{
    private const long GcKeyword = 0x1;
    private const long GcHeapCollectKeyword = 0x800000;

    /// <summary>Induces a full GC in process <paramref name="processId"/> and returns its heap after it; null when no such GC was seen within <paramref name="patience"/>.</summary>
    public static async Task<ManagedHeap?> MeasureAsync(int processId, TimeSpan patience, CancellationToken cancellationToken)
    {
        var client = new DiagnosticsClient(processId);
        var provider = new EventPipeProvider(ClrTraceEventParser.ProviderName, EventLevel.Informational, GcKeyword | GcHeapCollectKeyword);
        using var session = await client.StartEventPipeSessionAsync([provider], requestRundown: false, circularBufferMB: 64, cancellationToken);
        var measured = new TaskCompletionSource<ManagedHeap>(TaskCreationOptions.RunContinuationsAsynchronously);
        var processing = Task.Run(() =>
        {
            using var source = new EventPipeEventSource(session.EventStream);
            var inducedFullGc = false;
            source.Clr.GCStart += gc => inducedFullGc = gc.Depth == 2 && gc.Type == GCType.NonConcurrentGC && gc.Reason == GCReason.Induced;
            source.Clr.GCHeapStats += stats =>
            {
                if (inducedFullGc)
                {
                    measured.TrySetResult(new ManagedHeap(
                        stats.TotalPromotedSize0 + stats.TotalPromotedSize1 + stats.TotalPromotedSize2 + stats.TotalPromotedSize3 + stats.TotalPromotedSize4,
                        stats.GenerationSize0 + stats.GenerationSize1 + stats.GenerationSize2 + stats.GenerationSize3 + stats.GenerationSize4));
                }
            };
            source.Process();
        }, cancellationToken);

        var finished = await Task.WhenAny(measured.Task, Task.Delay(patience, cancellationToken));
        await session.StopAsync(cancellationToken);
        await processing;
        return finished == measured.Task ? await measured.Task : null;
    }
}
