using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;
using OrleansGateway.Http.Clients;
using OrleansGateway.Tests.Infrastructure;

namespace OrleansGateway.Tests.Http;

public sealed class ApiClientOptionsTests
{
    private const string Secret = "a-secret-of-twenty-chars";

    public static TheoryData<Dictionary<string, string?>, string> BadSettings => new()
    {
        { new() { ["Gateway:Clients:web app:Key"] = Secret }, "a client's name is 1 to 64 letters" },
        { new() { ["Gateway:Clients:web:Key"] = "short-secret" }, "Gateway:Clients:web:Key is too short to be a secret: at least 16 characters" },
        { new() { ["Gateway:Clients:web:Key"] = Secret, ["Gateway:Clients:web:KeySha256"] = new string('a', 64) }, "Gateway:Clients:web needs exactly one of Key and KeySha256" },
        { new() { ["Gateway:Clients:web:RequestsPerSecond"] = "5" }, "Gateway:Clients:web needs exactly one of Key and KeySha256" },
        { new() { ["Gateway:Clients:web:KeySha256"] = "abc" }, "KeySha256 must be the SHA-256 of the key as 64 hexadecimal digits" },
        { new() { ["Gateway:Clients:web:Key"] = Secret, ["Gateway:Clients:web:Burst"] = "0" }, "Gateway:Clients:web:Burst must be between 1 and 1000000, not 0" },
        { new() { ["Gateway:RateLimit:RequestsPerSecond"] = "0" }, "Gateway:RateLimit:RequestsPerSecond must be between 1 and 1000000, not 0" },
        { new() { ["Gateway:Clients:web:Key"] = Secret, ["Gateway:Clients:app:Key"] = Secret }, "the clients app and web have the same key" },
    };

    [Theory]
    [MemberData(nameof(BadSettings))]
    public async Task A_bad_client_stops_the_start_with_a_reason_that_never_repeats_a_key(Dictionary<string, string?> settings, string reason)
    {
        using var host = Host(settings, new RecordingLoggerProvider());

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());

        Assert.Contains(reason, error.Message);
        Assert.DoesNotContain(Secret, error.Message);
        Assert.DoesNotContain("short-secret", error.Message);
    }

    [Fact]
    public async Task An_open_api_says_so_at_start_and_a_closed_one_does_not()
    {
        var open = new RecordingLoggerProvider();
        using (var host = Host([], open))
        {
            await host.StartAsync();
            Assert.False(host.Services.GetRequiredService<ApiClientKeys>().Required);
            await host.StopAsync();
        }

        Assert.Contains(open.Lines, line => line.StartsWith("Warning") && line.Contains("the session API is open to anyone"));

        var closed = new RecordingLoggerProvider();
        using (var host = Host(new() { ["Gateway:Clients:web:Key"] = Secret }, closed))
        {
            await host.StartAsync();
            Assert.Equal("web", host.Services.GetRequiredService<ApiClientKeys>().ClientOf(Secret));
            Assert.Null(host.Services.GetRequiredService<ApiClientKeys>().ClientOf(Secret + " "));
            await host.StopAsync();
        }

        Assert.DoesNotContain(closed.Lines, line => line.Contains("open to anyone") || line.Contains(Secret));
    }

    private static IHost Host(Dictionary<string, string?> settings, RecordingLoggerProvider logs)
    {
        var builder = Microsoft.Extensions.Hosting.Host.CreateApplicationBuilder();
        builder.Configuration.AddInMemoryCollection(settings);
        builder.Logging.ClearProviders().AddProvider(logs);
        // Never opened: the checks at start read no session.
        builder.Services.AddSingleton(_ => NpgsqlDataSource.Create("Host=127.0.0.1;Port=1"));
        builder.Services.AddApiClients();
        return builder.Build();
    }
}
