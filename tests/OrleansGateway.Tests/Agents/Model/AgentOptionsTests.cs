using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using OrleansGateway.Agents;
using OrleansGateway.Agents.Model;
using OrleansGateway.Tests.Infrastructure;

namespace OrleansGateway.Tests.Agents.Model;

/// <summary>The <c>Gateway:Agent</c> settings as a silo binds and validates them at start.</summary>
public sealed class AgentOptionsTests(PostgresFixture postgres) : ModelAgentTests(postgres)
{
    [Fact]
    public void Without_a_provider_the_scripted_agent_runs_turns_and_its_settings_still_bind()
    {
        var services = Harness.Services(new Dictionary<string, string?> { ["Gateway:Agent:FaultInjection"] = "true" });

        Assert.IsType<ScriptedAgent>(services.GetRequiredService<IAgent>());
        Assert.True(services.GetRequiredService<IOptions<ScriptedAgentOptions>>().Value.FaultInjection);
    }

    [Fact]
    public void The_openai_provider_runs_turns_with_the_model_agent() => Assert.IsType<OpenAIAgent>(Harness.Agent());

    [Fact]
    public void An_agent_registered_before_is_kept()
    {
        var scripted = new ServiceCollection().AddSingleton<IAgent, EchoAgent>()
            .AddSingleton<IConfiguration>(new ConfigurationBuilder().AddInMemoryCollection(Harness.Settings()).Build())
            .AddGatewayAgent().BuildServiceProvider();

        Assert.IsType<EchoAgent>(scripted.GetRequiredService<IAgent>());
    }

    [Theory]
    [InlineData("Gateway:Agent:OpenAI:Endpoint", null, "Gateway:Agent:OpenAI:Endpoint is required when Gateway:Agent:Provider is openai (e.g. http://localhost:11434/v1)")]
    [InlineData("Gateway:Agent:OpenAI:Endpoint", "localhost:11434", "Gateway:Agent:OpenAI:Endpoint 'localhost:11434' is not an absolute http or https URL")]
    [InlineData("Gateway:Agent:OpenAI:Model", "", "Gateway:Agent:OpenAI:Model is required when Gateway:Agent:Provider is openai")]
    [InlineData("Gateway:Agent:Provider", "claude", "Gateway:Agent:Provider must be 'scripted' or 'openai', not 'claude'")]
    [InlineData("Gateway:Agent:MaxSteps", "0", "Gateway:Agent:MaxSteps must be at least 1")]
    [InlineData("Gateway:Agent:Tools:echo:Url", "not a url", "Gateway:Agent:Tools:echo:Url 'not a url' is not an absolute http or https URL")]
    [InlineData("Gateway:Agent:Tools:echo:Parameters", "{\"type\":", "Gateway:Agent:Tools:echo:Parameters is not a JSON schema: ")]
    [InlineData("Gateway:Agent:Tools:echo:Parameters", "[1]", "Gateway:Agent:Tools:echo:Parameters is not a JSON schema: a schema must be a JSON object, not Array")]
    [InlineData("Gateway:Agent:Mcp:files:Arguments:0", "--root", "Gateway:Agent:Mcp:files needs either Command (stdio) or Url (HTTP), not neither")]
    public void Bad_settings_refuse_to_start_with_one_line_naming_the_setting(string key, string? value, string failure)
    {
        var settings = Harness.Settings();
        settings[key] = value;

        var error = Assert.Throws<OptionsValidationException>(() => Harness.Agent(settings));

        var line = Assert.Single(error.Failures);
        Assert.StartsWith(failure, line);
        Assert.DoesNotContain('\n', line);
        Assert.DoesNotContain(ModelAgentHarness.ApiKey, error.Message);
    }

    [Fact]
    public void An_empty_api_key_is_allowed_for_local_servers()
    {
        var settings = Harness.Settings();
        settings["Gateway:Agent:OpenAI:ApiKey"] = "";

        Assert.IsType<OpenAIAgent>(Harness.Agent(settings));
    }

    private sealed class EchoAgent : IAgent
    {
        public string? Validate(string text) => null;

        public int? PlannedSteps(string text) => 1;

        public Task<AgentStepResult> RunStepAsync(AgentStep step, CancellationToken cancellationToken) =>
            Task.FromResult(AgentStepResult.Complete(step.Text));
    }
}
