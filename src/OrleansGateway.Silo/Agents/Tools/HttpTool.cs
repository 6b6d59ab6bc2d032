using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.AI;
using OrleansGateway.Agents.Model;

namespace OrleansGateway.Agents.Tools;

/// <summary>
/// A tool that is an HTTP endpoint: the model's arguments are POSTed as JSON with an <c>Idempotency-Key</c> header, and the
/// response body is the result.
/// </summary>
public sealed class HttpTool : IAgentTool
{
    public const string IdempotencyHeader = "Idempotency-Key";

    // What the model reads of an error body: enough to understand, not a page of HTML.
    private const int MaxErrorBody = 2000;

    private readonly HttpClient _http;
    private readonly Uri _url;
    private readonly TimeSpan _timeout;

    public HttpTool(string name, HttpToolOptions options, HttpClient http)
    {
        Name = name;
        Schema = ArgumentSchema.Parse(options.Parameters);
        Declaration = AIFunctionFactory.CreateDeclaration(name, options.Description ?? "", Schema.Declaration);
        _url = new Uri(options.Url!, UriKind.Absolute);
        _timeout = options.Timeout;
        _http = http;
    }

    public string Name { get; }

    public AIFunctionDeclaration Declaration { get; }

    public ArgumentSchema Schema { get; }

    public async Task<ToolOutcome> RunAsync(JsonElement arguments, string idempotencyKey, CancellationToken cancellationToken)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(_timeout);
        using var request = new HttpRequestMessage(HttpMethod.Post, _url)
        {
            Content = new StringContent(arguments.GetRawText(), Encoding.UTF8, new MediaTypeHeaderValue("application/json")),
        };
        request.Headers.Add(IdempotencyHeader, idempotencyKey);
        try
        {
            using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseContentRead, deadline.Token);
            var body = await response.Content.ReadAsStringAsync(deadline.Token);
            return response.IsSuccessStatusCode
                ? new ToolOutcome(body, false)
                : ToolOutcome.Error($"tool {Name} answered HTTP {(int)response.StatusCode}: {Truncate(body)}");
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return ToolOutcome.Error($"tool {Name} did not answer within {_timeout.TotalSeconds:0.###} s");
        }
        catch (HttpRequestException exception)
        {
            return ToolOutcome.Error($"tool {Name} could not be reached: {exception.Message}");
        }
    }

    private static string Truncate(string body) => body.Length <= MaxErrorBody ? body : $"{body[..MaxErrorBody]}…";
}
