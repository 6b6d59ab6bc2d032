using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace OrleansGateway.Tests.Infrastructure;

/// <summary>
/// A real HTTP server (Kestrel) on a loopback port the kernel picks as it binds, so that no other process can take it in
/// between; silo processes reach it as well as the test.
/// </summary>
public sealed class LoopbackServer : IAsyncDisposable
{
    private readonly WebApplication _app;

    private LoopbackServer(WebApplication app) => _app = app;

    /// <summary>The server's base address, without a trailing slash.</summary>
    public string BaseUrl => _app.Urls.Single().TrimEnd('/');

    public static async Task<LoopbackServer> StartAsync(Action<WebApplication> map, Action<IServiceCollection>? services = null)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        services?.Invoke(builder.Services);
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var app = builder.Build();
        map(app);
        await app.StartAsync();
        return new LoopbackServer(app);
    }

    public ValueTask DisposeAsync() => _app.DisposeAsync();
}
