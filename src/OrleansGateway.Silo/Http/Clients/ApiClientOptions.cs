using System.Text.RegularExpressions;
using Microsoft.Extensions.Options;

namespace OrleansGateway.Http.Clients;

/// <summary>
/// The clients of the session API, <c>Gateway:Clients:&lt;name&gt;</c>, and their rate limit, <c>Gateway:RateLimit</c>.
/// With no client the API is open (for local development), and the silo says so when it starts.
/// </summary>
public sealed partial class ApiClientOptions
{
    public const string Section = "Gateway";

    public Dictionary<string, ApiClient> Clients { get; set; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>What each client may send when it sets no limit of its own.</summary>
    public ApiRateLimit RateLimit { get; set; } = new();

    public ApiRateLimit LimitOf(ApiClient client) => new()
    {
        RequestsPerSecond = client.RequestsPerSecond ?? RateLimit.RequestsPerSecond,
        Burst = client.Burst ?? RateLimit.Burst,
    };

    [GeneratedRegex(@"\A[A-Za-z0-9_.-]{1,64}\z")]
    internal static partial Regex ClientName();

    [GeneratedRegex(@"\A[0-9a-fA-F]{64}\z")]
    internal static partial Regex Sha256Hex();

    /// <summary>Says what is wrong with a client without ever repeating its key.</summary>
    public sealed class Validator : IValidateOptions<ApiClientOptions>
    {
        public const int MinKeyLength = 16;

        public ValidateOptionsResult Validate(string? name, ApiClientOptions options)
        {
            var problems = new List<string>();
            foreach (var (client, settings) in options.Clients)
            {
                var prefix = $"{Section}:Clients:{client}";
                if (!ClientName().IsMatch(client))
                {
                    problems.Add($"{Section}:Clients: a client's name is 1 to 64 letters, digits, '_', '.' or '-', not '{client}'");
                }

                var key = !string.IsNullOrWhiteSpace(settings.Key);
                var hash = !string.IsNullOrWhiteSpace(settings.KeySha256);
                if (key == hash)
                {
                    problems.Add($"{prefix} needs exactly one of Key and KeySha256");
                }
                else if (key && settings.Key!.Trim().Length < MinKeyLength)
                {
                    problems.Add($"{prefix}:Key is too short to be a secret: at least {MinKeyLength} characters");
                }
                else if (hash && !Sha256Hex().IsMatch(settings.KeySha256!.Trim()))
                {
                    problems.Add($"{prefix}:KeySha256 must be the SHA-256 of the key as 64 hexadecimal digits");
                }

                Check(problems, $"{prefix}:", settings.RequestsPerSecond, settings.Burst);
            }

            Check(problems, $"{Section}:RateLimit:", options.RateLimit.RequestsPerSecond, options.RateLimit.Burst);

            // One key under two names would let one client read the other's sessions.
            var hashes = options.Clients.Where(pair => pair.Value.HashOrNull() is not null)
                .GroupBy(pair => Convert.ToHexString(pair.Value.HashOrNull()!));
            foreach (var shared in hashes.Where(group => group.Count() > 1))
            {
                problems.Add($"the clients {string.Join(" and ", shared.Select(pair => pair.Key).Order(StringComparer.Ordinal))} have the same key");
            }

            return problems.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(problems);
        }

        private static void Check(List<string> problems, string prefix, int? requestsPerSecond, int? burst)
        {
            if (requestsPerSecond is < 1 or > 1_000_000)
            {
                problems.Add($"{prefix}RequestsPerSecond must be between 1 and 1000000, not {requestsPerSecond}");
            }

            if (burst is < 1 or > 1_000_000)
            {
                problems.Add($"{prefix}Burst must be between 1 and 1000000, not {burst}");
            }
        }
    }
}

/// <summary>One client: its key (or the key's SHA-256, so that the settings hold no secret), and its own rate limit.</summary>
public sealed class ApiClient
{
    public string? Key { get; set; }

    public string? KeySha256 { get; set; }

    public int? RequestsPerSecond { get; set; }

    public int? Burst { get; set; }

    /// <summary>The hash the key is compared by; null for a client the validator refuses.</summary>
    public byte[]? HashOrNull() =>
        !string.IsNullOrWhiteSpace(Key) ? ServiceDefaults.HashedSecrets.Hash(Key.Trim())
        : KeySha256 is { } hex && ApiClientOptions.Sha256Hex().IsMatch(hex.Trim()) ? Convert.FromHexString(hex.Trim())
        : null;
}

/// <summary>A token bucket: <see cref="Burst"/> requests at once, refilled at <see cref="RequestsPerSecond"/>.</summary>
public sealed class ApiRateLimit
{
    public int? RequestsPerSecond { get; set; } = 50;

    public int? Burst { get; set; } = 100;
}
