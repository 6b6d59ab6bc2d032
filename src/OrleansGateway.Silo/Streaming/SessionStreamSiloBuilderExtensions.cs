using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using OrleansGateway.Storage;
using OrleansGateway.Streaming;

namespace Orleans.Hosting;

public static class SessionStreamSiloBuilderExtensions
{
    /// <summary>
    /// The session streams of <c>GET /api/sessions/{id}/stream</c>: the silo's one listener of the stream channels, the
    /// registry of its open streams and the renewal of their watches, configured by the <c>Gateway:Stream</c> section.
    /// </summary>
    public static ISiloBuilder AddSessionStreams(this ISiloBuilder builder)
    {
        builder.Services.AddOptions<SessionStreamOptions>().BindConfiguration(SessionStreamOptions.Section).ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<SessionStreamOptions>, SessionStreamOptions.Validator>();
        builder.Services.AddSingleton<SessionStreamRegistry>();
        builder.Services.AddSingleton<SessionStreams>();
        builder.Services.AddSingleton<ILifecycleParticipant<ISiloLifecycle>, SessionStreamListener>();
        builder.Services.AddSingleton<StreamWatchers>();
        builder.Services.AddSingleton<ILifecycleParticipant<ISiloLifecycle>, StreamWatchRenewal>();
        return builder;
    }
}
