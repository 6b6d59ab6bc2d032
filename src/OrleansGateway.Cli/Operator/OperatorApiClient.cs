using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using OrleansGateway.Cli.Commands;
using OrleansGateway.Operations;
using OrleansGateway.Sessions;

namespace OrleansGateway.Cli.Operator;

/// <summary>Which sessions a listing asks for; null leaves the filter (or the page size) to the API.</summary>
public sealed record SessionQuery(string? Phase = null, string? Silo = null, bool Stale = false, int? Limit = null, string? After = null);

/// <summary>
/// The operator API of the dashboard (<c>/api/operator/...</c>), as every <c>ogw</c> operator command calls it:
/// bearer token, typed answers together with their JSON, and every failure as one <see cref="CliError"/> line.
/// </summary>
public sealed class OperatorApiClient : IDisposable
{
    public const string DefaultUrl = "http://127.0.0.1:8080/";
    public static readonly TimeSpan RequestTimeout = TimeSpan.FromSeconds(30);

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        // An answer of another shape than the contract's is an error that names the route, not a table of blanks.
        RespectNullableAnnotations = true,
        RespectRequiredConstructorParameters = true,
    };

    private readonly HttpClient _http;

    /// <param name="baseUrl">The dashboard, e.g. <c>http://127.0.0.1:8080/</c>; a path (behind a proxy) is kept.</param>
    public OperatorApiClient(Uri baseUrl, string token)
    {
        BaseUrl = baseUrl.AbsoluteUri.EndsWith('/') ? baseUrl : new Uri(baseUrl.AbsoluteUri + "/");
        _http = new HttpClient { BaseAddress = BaseUrl, Timeout = Timeout.InfiniteTimeSpan };
        _http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        _http.DefaultRequestHeaders.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
    }

    public Uri BaseUrl { get; }

    public Task<OperatorAnswer<IReadOnlyList<SiloResponse>>> GetSilosAsync(CancellationToken cancellationToken) =>
        SendAsync<IReadOnlyList<SiloResponse>>(HttpMethod.Get, "api/operator/silos", cancellationToken);

    public Task<OperatorAnswer<SessionListResponse>> GetSessionsAsync(SessionQuery query, CancellationToken cancellationToken) =>
        SendAsync<SessionListResponse>(HttpMethod.Get, "api/operator/sessions" + Query(
            ("phase", query.Phase),
            ("silo", query.Silo),
            ("stale", query.Stale ? "true" : null),
            ("limit", query.Limit?.ToString(CultureInfo.InvariantCulture)),
            ("after", query.After)), cancellationToken);

    /// <param name="limit">How many sessions; null leaves it to the API (100).</param>
    public Task<OperatorAnswer<AttentionResponse>> GetAttentionAsync(int? limit, CancellationToken cancellationToken) =>
        SendAsync<AttentionResponse>(HttpMethod.Get, "api/operator/attention" + Query(("limit", limit?.ToString(CultureInfo.InvariantCulture))), cancellationToken);

    /// <param name="turns">How many of the newest turns; null leaves it to the API (50).</param>
    public Task<OperatorAnswer<SessionDetailResponse>> GetSessionAsync(string sessionId, int? turns, CancellationToken cancellationToken) =>
        SendAsync<SessionDetailResponse>(HttpMethod.Get, $"api/operator/sessions/{Uri.EscapeDataString(sessionId)}{Query(("turns", turns?.ToString(CultureInfo.InvariantCulture)))}", cancellationToken);

    /// <summary>The turns before <paramref name="beforeTurnId"/>, newest first; <paramref name="limit"/> null leaves the page size to the API (50).</summary>
    public Task<OperatorAnswer<TurnPageResponse>> GetTurnPageAsync(string sessionId, string beforeTurnId, int? limit, CancellationToken cancellationToken) =>
        SendAsync<TurnPageResponse>(HttpMethod.Get,
            $"api/operator/sessions/{Uri.EscapeDataString(sessionId)}/turns{Query(("before", beforeTurnId), ("limit", limit?.ToString(CultureInfo.InvariantCulture)))}", cancellationToken);

    public Task<OperatorAnswer<SessionCommandResponse>> ChangeSessionAsync(string sessionId, SessionAction action, CancellationToken cancellationToken) =>
        SendAsync<SessionCommandResponse>(HttpMethod.Post, $"api/operator/sessions/{Uri.EscapeDataString(sessionId)}/{Segment(action)}", cancellationToken);

    /// <param name="address">The silo's <c>ip:port@generation</c>; sent URL-encoded (<c>%3A</c>, <c>%40</c>).</param>
    public Task<OperatorAnswer<SiloReportResponse>> ChangeSiloAsync(string address, SiloAction action, CancellationToken cancellationToken) =>
        SendAsync<SiloReportResponse>(HttpMethod.Post, $"api/operator/silos/{Uri.EscapeDataString(address)}/{Segment(action)}", cancellationToken);

    public void Dispose() => _http.Dispose();

    /// <summary>The query string of the parameters that have a value: <c>?a=1&amp;b=2</c>, or nothing.</summary>
    private static string Query(params (string Name, string? Value)[] parameters)
    {
        var given = parameters.Where(p => p.Value is not null).Select(p => $"{p.Name}={Uri.EscapeDataString(p.Value!)}").ToList();
        return given.Count == 0 ? "" : $"?{string.Join('&', given)}";
    }

    private static string Segment<TAction>(TAction action) where TAction : struct, Enum => action.ToString().ToLowerInvariant();

    private async Task<OperatorAnswer<T>> SendAsync<T>(HttpMethod method, string path, CancellationToken cancellationToken)
    {
        var what = $"{method} /{path.Split('?')[0]}";
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(RequestTimeout);
        string body;
        HttpStatusCode status;
        try
        {
            using var request = new HttpRequestMessage(method, path);
            using var response = await _http.SendAsync(request, deadline.Token);
            status = response.StatusCode;
            body = await response.Content.ReadAsStringAsync(deadline.Token);
        }
        catch (HttpRequestException exception)
        {
            throw CliError.Unavailable($"cannot reach the dashboard at {BaseUrl} ({exception.GetBaseException().Message}); `ogw up` starts one, --url or OGW_URL names another");
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw CliError.Unavailable($"the dashboard at {BaseUrl} did not answer {what} within {RequestTimeout.TotalSeconds:0} s");
        }

        if (status == HttpStatusCode.OK)
        {
            try
            {
                var value = JsonSerializer.Deserialize<T>(body, Json) ?? throw new JsonException("the answer is null");
                return new OperatorAnswer<T>(value, body);
            }
            catch (JsonException exception)
            {
                throw new CliError($"the dashboard at {BaseUrl} answered {what} with 200 and a document ogw cannot read: {exception.Message}");
            }
        }

        var reason = ApiErrorText.Reason(body);
        var message = status switch
        {
            HttpStatusCode.Unauthorized => $"the dashboard at {BaseUrl} refused the operator token (401{(reason is null ? "" : $": {reason}")}); check --token, --token-file, {OperatorOptions.TokenVariable} or {OperatorOptions.TokenFileVariable}",
            HttpStatusCode.BadRequest or HttpStatusCode.NotFound or HttpStatusCode.Conflict when reason is not null => reason,
            _ => $"the dashboard at {BaseUrl} answered {what} with {(int)status} {status}{(reason is null ? "" : $": {reason}")}",
        };
        throw status is HttpStatusCode.BadGateway or HttpStatusCode.ServiceUnavailable or HttpStatusCode.GatewayTimeout
            ? CliError.Unavailable(message)
            : new CliError(message);
    }
}
