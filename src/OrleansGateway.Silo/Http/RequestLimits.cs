using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Options;

namespace OrleansGateway.Http;

/// <summary>
/// Kestrel's limits on what one request may send, stated rather than left to the server's defaults: a bearer key and a
/// browser's headers fit, and little else. <c>Kestrel:Limits</c> in the configuration overrides any of them.
/// </summary>
/// <remarks>
/// The body limit is well above what a route takes (a message's body, <see cref="SessionEndpoints.MaxTextBytes"/> with
/// every character escaped, is refused with a 413 of its own beyond that): a body the route refuses unread is drained
/// up to this limit, so that its client reads the 413. Past it the server closes the connection instead.
/// </remarks>
public static class RequestLimits
{
    public const long MaxRequestBodySize = 4 * 1024 * 1024;
    public const int MaxRequestHeadersTotalSize = 32 * 1024;
    public const int MaxRequestHeaderCount = 64;
    public const int MaxRequestLineSize = 8 * 1024;

    public static IServiceCollection AddRequestLimits(this IServiceCollection services)
    {
        services.AddSingleton<IConfigureOptions<KestrelServerOptions>>(provider => new ConfigureOptions<KestrelServerOptions>(options =>
        {
            options.Limits.MaxRequestBodySize = MaxRequestBodySize;
            options.Limits.MaxRequestHeadersTotalSize = MaxRequestHeadersTotalSize;
            options.Limits.MaxRequestHeaderCount = MaxRequestHeaderCount;
            options.Limits.MaxRequestLineSize = MaxRequestLineSize;
            provider.GetRequiredService<IConfiguration>().GetSection("Kestrel:Limits").Bind(options.Limits);
        }));
        return services;
    }
}
