using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using OrleansGateway.Resume;

namespace Orleans.Hosting;

public static class SessionResumeSiloBuilderExtensions
{
    /// <summary>
    /// The resume lifecycle: the premark-then-drain stop (<see cref="PremarkDrainParticipant"/>), the resume sweeper,
    /// and the start-up check of the drain budget, configured by the <c>Gateway:Resume</c> section.
    /// </summary>
    public static ISiloBuilder AddSessionResume(this ISiloBuilder builder, Action<SessionResumeOptions>? configure = null)
    {
        var options = builder.Services.AddOptions<SessionResumeOptions>().BindConfiguration(SessionResumeOptions.Section).ValidateOnStart();
        if (configure is not null)
        {
            options.Configure(configure);
        }

        builder.Services.AddSingleton<IValidateOptions<SessionResumeOptions>, SessionResumeOptions.Validator>();
        builder.Services.AddSingleton<RunningTurns>();
        builder.Services.AddSingleton<SiloDeaths>();
        builder.Services.AddSingleton<ResumeSweeper>();
        builder.Services.AddSingleton<ILifecycleParticipant<ISiloLifecycle>>(services => services.GetRequiredService<ResumeSweeper>());
        builder.Services.AddSingleton<ILifecycleParticipant<ISiloLifecycle>, PremarkDrainParticipant>();
        builder.Services.AddSingleton<ILifecycleParticipant<ISiloLifecycle>, DrainBudgetCheck>();
        return builder;
    }
}
