using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using OrleansGateway.Agents.Model;
using OrleansGateway.Agents.Tools;

namespace OrleansGateway.Agents;

public static class AgentServiceCollectionExtensions
{
    /// <summary>
    /// The agent that runs turns, chosen by <c>Gateway:Agent:Provider</c>, and its settings, validated when the host starts.
    /// An <see cref="IAgent"/> registered before (a test's) is kept.
    /// </summary>
    public static IServiceCollection AddGatewayAgent(this IServiceCollection services)
    {
        services.AddOptions<ScriptedAgentOptions>().BindConfiguration(ScriptedAgentOptions.Section);
        services.AddOptions<AgentOptions>().BindConfiguration(AgentOptions.Section).ValidateOnStart();
        services.AddSingleton<IValidateOptions<AgentOptions>, AgentOptionsValidator>();
        services.AddSingleton<StepTraceWriter>();
        services.AddHttpClient(ToolCatalog.HttpClientName, client => client.Timeout = Timeout.InfiniteTimeSpan);
        services.TryAddSingleton<ToolCatalog>();
        services.TryAddSingleton<IAgent>(provider => provider.GetRequiredService<IOptions<AgentOptions>>().Value.UsesModel
            ? ActivatorUtilities.CreateInstance<OpenAIAgent>(provider)
            : ActivatorUtilities.CreateInstance<ScriptedAgent>(provider));
        return services;
    }
}
