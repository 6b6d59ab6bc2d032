using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Orleans.Configuration;
using Orleans.Serialization;
using Orleans.Serialization.Session;
using Orleans.Storage;
using OrleansGateway.Sessions;

namespace OrleansGateway.Tests.Upgrade;

/// <summary>
/// The bytes that cross versions during a rolling upgrade, as release 0.1 wrote them: the session grain's state as
/// the ADO.NET grain storage keeps it (<c>orleansstorage.payloadbinary</c>, JSON of Orleans' Newtonsoft-based
/// <see cref="JsonGrainStorageSerializer"/>, with <c>$type</c> names), and the grain-call contracts in Orleans' binary
/// format. The current build must read them with every field, and write at least the fields 0.1 wrote.
/// </summary>
/// <remarks>
/// The files under <c>Golden/0.1/</c> were written by this test with <c>OGW_WRITE_GOLDEN=&lt;folder&gt;</c> at a commit
/// where <c>git diff 78abb40 -- src/OrleansGateway.Silo/Sessions/SessionState.cs src/OrleansGateway.Abstractions</c> was
/// empty, and are byte for byte what the same test writes when built in 0.1's own tree (78abb40): 0.1's bytes.
/// Never regenerate them for 0.1: a later release gets a folder of its own.
/// </remarks>
public sealed class GoldenStateTests
{
    private const string Release = "0.1";

    private static readonly Lazy<IServiceProvider> Services = new(() => new ServiceCollection()
        .AddSerializer(builder => builder.AddAssembly(typeof(SessionView).Assembly))
        .BuildServiceProvider());

    private static Serializer Serializer => Services.Value.GetRequiredService<Serializer>();

    public static TheoryData<string> ContractNames => [.. Contracts.Keys];

    [Fact]
    public void The_session_state_is_stored_with_the_json_serializer_that_wrote_the_golden_file()
    {
        Assert.IsType<JsonGrainStorageSerializer>(StorageSerializer());
    }

    [Fact]
    public void The_session_state_that_0_1_stored_reads_with_every_field()
    {
        var serializer = StorageSerializer();
        var current = serializer.Serialize(GoldenValues.SessionState()).ToArray();
        var golden = Golden("SessionState.json", current);

        AssertSameState(GoldenValues.SessionState(), serializer.Deserialize<SessionState>(BinaryData.FromBytes(golden)));
        AssertSameState(GoldenValues.SessionState(), serializer.Deserialize<SessionState>(BinaryData.FromBytes(current)));
        Assert.Superset(SerializedFields.OfJson(golden), SerializedFields.OfJson(current));
    }

    [Theory]
    [MemberData(nameof(ContractNames))]
    public void A_grain_call_contract_that_0_1_wrote_reads_with_every_field(string name)
    {
        var contract = Contracts[name];
        var current = contract.Write(Serializer);
        var golden = Golden($"{name}.bin", current);

        contract.AssertRead(Serializer, golden);
        contract.AssertRead(Serializer, current);
        var sessions = Services.Value.GetRequiredService<SerializerSessionPool>();
        var goldenFields = SerializedFields.OfOrleansBinary(golden, sessions);
        Assert.NotEmpty(goldenFields);
        Assert.Superset(goldenFields, SerializedFields.OfOrleansBinary(current, sessions));
    }

    private static readonly Dictionary<string, GoldenContract> Contracts = new GoldenContract[]
    {
        GoldenContract.Of("SessionView", GoldenValues.SessionView, AssertSameView),
        GoldenContract.Of("IdleSessionView", GoldenValues.IdleSessionView, AssertSameView),
        GoldenContract.Of("TurnView", GoldenValues.RunningTurn),
        GoldenContract.Of("ResumeTicket", GoldenValues.ResumeTicket),
        GoldenContract.Of("MessageAccepted", GoldenValues.MessageAccepted),
        GoldenContract.Of("SessionMessage", GoldenValues.SessionMessage),
        GoldenContract.Of("SessionCommandResult", GoldenValues.SessionCommandResult),
        GoldenContract.Of("SiloReport", GoldenValues.SiloReport),
        GoldenContract.Of("SiloStopAnswer", GoldenValues.SiloStopAnswer),
    }.ToDictionary(contract => contract.Name);

    /// <summary>The serializer the gateway's ADO.NET grain storage is configured with, from a silo host that is never started.</summary>
    private static IGrainStorageSerializer StorageSerializer()
    {
        var builder = Host.CreateApplicationBuilder();
        builder.UseOrleans(silo => silo.AddOrleansGateway("Host=127.0.0.1;Database=never_connected"));
        using var host = builder.Build();
        return host.Services.GetRequiredService<IOptionsMonitor<AdoNetGrainStorageOptions>>().Get(GatewayStorageNames.Sessions).GrainStorageSerializer;
    }

    /// <summary>
    /// The checked-in golden file. With <c>OGW_WRITE_GOLDEN=&lt;folder&gt;</c> the current bytes are written there first
    /// (to create a new release's folder); the comparison is with the checked-in file all the same.
    /// </summary>
    private static byte[] Golden(string file, byte[] current)
    {
        if (Environment.GetEnvironmentVariable("OGW_WRITE_GOLDEN") is { Length: > 0 } target)
        {
            Directory.CreateDirectory(target);
            File.WriteAllBytes(Path.Combine(target, file), current);
        }

        var path = Path.Combine(AppContext.BaseDirectory, "Upgrade", "Golden", Release, file);
        return File.Exists(path) ? File.ReadAllBytes(path) : throw new FileNotFoundException($"golden file of {Release} missing: {path}");
    }

    private static void AssertSameState(SessionState expected, SessionState? actual)
    {
        Assert.NotNull(actual);
        Assert.Equal(expected.LastTurnNumber, actual.LastTurnNumber);
        Assert.Equal(expected.Turns.Select(Fields), actual.Turns.Select(Fields));
    }

    // DateTimeOffset's equality ignores the offset; a turn's times keep theirs.
    private static object Fields(TurnRecord turn) => (turn.TurnId, turn.MessageId, turn.Text, turn.Status, turn.StepsDone, turn.StepsTotal,
        turn.Executions, turn.Reply, turn.Error, (turn.AcceptedAt, turn.AcceptedAt.Offset), (turn.FinishedAt, turn.FinishedAt?.Offset));

    private static void AssertSameView(SessionView expected, SessionView actual)
    {
        Assert.Equal(expected with { Turns = [] }, actual with { Turns = [] });
        Assert.Equal(expected.Turns, actual.Turns);
    }

    /// <summary>One contract: its golden value, written and read with its own type, as a grain call's argument or result is.</summary>
    private sealed record GoldenContract(string Name, Func<Serializer, byte[]> Write, Action<Serializer, byte[]> AssertRead)
    {
        public static GoldenContract Of<T>(string name, T expected, Action<T, T>? assertSame = null) where T : notnull =>
            new(name, serializer => serializer.SerializeToArray(expected), (serializer, bytes) =>
            {
                var read = serializer.Deserialize<T>(bytes);
                Assert.NotNull(read);
                (assertSame ?? ((e, a) => Assert.Equal(e, a)))(expected, read);
            });
    }
}
