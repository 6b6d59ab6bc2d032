using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Options;

namespace OrleansGateway.Http;

/// <summary>
/// Kestrel's limits on what one request may send, stated rather than left to the server's defaults: the largest message
/// fits (<see cref="SessionEndpoints.MaxTextBytes"/>, every character escaped), a bearer key and a browser's headers fit,
/// and little else. <c>Kestrel:Limits</c> in the configuration overrides any of them.
/// </summary>
public static class RequestLimits
{
    public const long MaxRequestBodySize = 512 * 1024;
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
