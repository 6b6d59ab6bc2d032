using System.Net;
using Orleans.Runtime;
using OrleansGateway.Resume;

namespace OrleansGateway.Tests.Resume;

public sealed class ResumeSpreadTests
{
    private static readonly SiloAddress A = Silo(11111);
    private static readonly SiloAddress B = Silo(11112);
    private static readonly SiloAddress C = Silo(11113);

    [Fact]
    public void Consecutive_claims_visit_every_wanted_silo_in_turn_whatever_the_order_they_are_listed_in()
    {
        Assert.Equal([A, B, C, A, B, C], Enumerable.Range(0, 6).Select(turn => ResumeSpread.Pick([C, A, B], turn)));
        Assert.Equal([A, B, A, B], Enumerable.Range(42, 4).Select(turn => ResumeSpread.Pick([B, A], turn)));
        Assert.Equal(B, ResumeSpread.Pick([A, B], long.MaxValue));
    }

    [Fact]
    public void Any_two_consecutive_claims_of_a_sweeper_land_on_two_silos_and_a_lone_silo_takes_them_all()
    {
        var spread = new ResumeSpread();

        var first = spread.Next([A, B]);
        var second = spread.Next([A, B]);

        Assert.NotEqual(first, second);
        Assert.Equal([C, C, C], Enumerable.Range(0, 3).Select(_ => spread.Next([C])));
        Assert.Null(spread.Next([]));
    }

    private static SiloAddress Silo(int port) => SiloAddress.New(new IPEndPoint(IPAddress.Loopback, port), 1);
}
