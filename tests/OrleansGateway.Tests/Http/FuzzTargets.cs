namespace OrleansGateway.Tests.Http;

/// <summary>
/// Generates requests against each API that must be refused: each picks a route, then spoils it in one way (an id, a
/// query parameter, a body, a header, the method, the route itself, the operator token or the API key), or asks for
/// another client's session.
/// </summary>
public static class FuzzTargets
{
    private const string Sessions = "api/sessions";
    private const string Operator = "api/operator";
    private static readonly string[] NoMethodHere = ["PUT", "PATCH", "OPTIONS", "HEAD"];

    /// <summary>The one session of the fuzzed silos that exists: it belongs to the client of <c>key</c>.</summary>
    public const string RealSession = "fz-real";

    /// <summary>
    /// A request to a silo whose API has clients: a bad one with the key of <paramref name="key"/>'s client, a good one with
    /// another client's key to that client's session, or any with no or a spoiled key.
    /// </summary>
    public static FuzzRequest Silo(BadRequests bad, string key, string otherKey)
    {
        var spoiled = bad.Random.Next(10);
        if (spoiled == 0)
        {
            var path = $"{Sessions}/{RealSession}";
            var request = bad.Pick(
            [
                Get(path), Get($"{path}/turns"), Get($"{path}/stream?after=0"),
                new FuzzRequest("POST", $"{path}/messages", """{"text":"hi"}"""u8.ToArray(), "application/json", []),
                new FuzzRequest("POST", $"{path}/{bad.Pick(["suspend", "resume"])}", null, null, []),
                new FuzzRequest("DELETE", path, null, null, []),
            ]);
            return request with { Headers = [("Authorization", $"Bearer {otherKey}")] };
        }

        var route = SiloRoute(bad);
        return route with
        {
            Headers = spoiled == 1
                ? [.. route.Headers, .. bad.Pick<(string, string)[]>([[], [("Authorization", "Bearer")], [("Authorization", $"Bearer {bad.JunkHeader()}")],
                    [("Authorization", $"Basic {bad.JunkHeader()}")], [("Authorization", bad.JunkHeader())], [("Authorization", $"Bearer {key}x")]])]
                : [.. route.Headers, ("Authorization", $"Bearer {key}")],
        };
    }

    private static FuzzRequest SiloRoute(BadRequests bad)
    {
        var ghost = bad.GhostId();
        return bad.Random.Next(9) switch
        {
            // A message with a bad id, or a bad body to any session: nothing is stored.
            0 => Post($"{Sessions}/{bad.BadIdSegment()}/messages", bad.BadMessageBody()),
            1 or 2 => Post($"{Sessions}/{bad.Pick([ghost, bad.UnservableIdSegment()])}/messages", bad.BadMessageBody()),
            3 => Get($"{Sessions}/{bad.UnservableIdSegment()}{bad.Pick(["", "/turns", "/stream"])}"),
            4 => Get(bad.Pick<Func<string>>(
            [
                () => $"{Sessions}/{ghost}{bad.BadQuery("turns", bad.BadNumber)}",
                () => $"{Sessions}/{ghost}/turns{bad.BadQuery("limit", bad.BadNumber)}",
                () => $"{Sessions}/{ghost}/turns{bad.BadQuery("before", () => bad.Pick(["t0", "7", "t-1", "tt", bad.Junk(9)]))}",
                () => $"{Sessions}/{ghost}/stream{bad.BadQuery("after", bad.BadNumber)}",
            ])()),
            // The stream's resume point from its header: junk, or an id for a session that does not exist.
            5 => Get($"{Sessions}/{bad.UnservableIdSegment()}/stream", ("Last-Event-ID", bad.JunkHeader())),
            6 => new FuzzRequest(bad.Pick(["POST", "DELETE"]), $"{Sessions}/{bad.UnservableIdSegment()}{(bad.Random.Next(2) == 0 ? "" : bad.Pick(["/suspend", "/resume"]))}",
                bad.Random.Next(3) == 0 ? bad.AnyBody() : null, "application/json", []),
            7 => new FuzzRequest(bad.Pick(NoMethodHere), $"{Sessions}/{ghost}{bad.Pick(["", "/messages", "/turns", "/stream", "/suspend"])}", null, null, []),
            _ => new FuzzRequest(bad.Pick(["GET", "POST", "DELETE"]), bad.Pick<Func<string>>(
            [
                () => Sessions,
                () => $"{Sessions}/",
                () => $"{Sessions}//messages",
                () => $"{Sessions}/{ghost}/{Uri.EscapeDataString(bad.Junk(5))}x",
                () => $"{Sessions}/{ghost}/turns/t1/extra",
                () => $"api/{Uri.EscapeDataString(bad.Junk(8))}x",
                () => "openapi/v2.json",
            ])(), null, null, []),
        };
    }

    public static FuzzRequest Dashboard(BadRequests bad, string token)
    {
        var ghost = bad.GhostId();
        var auth = ("Authorization", $"Bearer {token}");
        return bad.Random.Next(8) switch
        {
            // Without a valid operator token, nothing is read and nothing is done.
            0 => new FuzzRequest(bad.Pick(["GET", "POST"]), $"{Operator}/{bad.Pick(["me", "silos", "sessions", "events", $"sessions/{ghost}/suspend", "silos/x/drain"])}", null, null,
                bad.Pick<(string, string)[]>([[], [("Authorization", "Bearer")], [("Authorization", $"Bearer {bad.JunkHeader()}")], [("Authorization", $"Basic {bad.JunkHeader()}")],
                    [("Authorization", bad.JunkHeader())], [("Authorization", $"Bearer {token}x")]])),
            1 => Get(bad.Pick<Func<string>>(
            [
                () => $"{Operator}/sessions{bad.BadQuery("limit", bad.BadNumber)}",
                () => $"{Operator}/sessions{bad.BadQuery("phase", () => bad.Pick(["runing", "IDLE!", "0", bad.Junk(6)]))}",
                () => $"{Operator}/sessions{bad.BadQuery("stale", () => bad.Pick(["yes", "2", "-1", bad.Junk(4)]))}",
                () => $"{Operator}/sessions?after=a&after=b",
                () => $"{Operator}/events{bad.BadQuery("limit", bad.BadNumber)}",
                () => $"{Operator}/events{bad.BadQuery("after", () => bad.Pick(["x", "-1", "1.5", "1:", ":1", bad.Junk(12)]))}",
                () => $"{Operator}/sessions/{ghost}{bad.BadQuery("turns", bad.BadNumber)}",
                () => $"{Operator}/sessions/{ghost}/turns{bad.BadQuery("limit", bad.BadNumber)}",
            ])(), auth),
            2 or 3 => Get($"{Operator}/sessions/{bad.UnservableIdSegment()}{bad.Pick(["", "/turns"])}", auth),
            4 => new FuzzRequest("POST", $"{Operator}/sessions/{bad.UnservableIdSegment()}/{bad.Pick(["resume", "suspend", "release"])}",
                bad.Random.Next(3) == 0 ? bad.AnyBody() : null, "application/json", [auth]),
            5 => new FuzzRequest("POST", $"{Operator}/silos/{Uri.EscapeDataString(bad.Pick([bad.Junk(bad.Random.Next(1, 300)), "127.0.0.1:1@1", ""]))}x/{bad.Pick(["drain", "restart"])}",
                null, null, [auth]),
            6 => new FuzzRequest(bad.Pick([.. NoMethodHere, "DELETE"]), $"{Operator}/{bad.Pick(["me", "silos", "sessions", "events", $"sessions/{ghost}", $"sessions/{ghost}/resume"])}",
                null, null, [auth]),
            _ => new FuzzRequest(bad.Pick(["GET", "POST"]), bad.Pick([$"{Operator}/nothing", $"{Operator}/sessions/{ghost}/turns/t1", "api/sessions", $"{Uri.EscapeDataString(bad.Junk(6))}x.html"]),
                null, null, [auth]),
        };
    }

    private static FuzzRequest Get(string path, params (string Name, string Value)[] headers) => new("GET", path, null, null, headers);

    private static FuzzRequest Post(string path, (byte[] Body, string? ContentType) body) => new("POST", path, body.Body, body.ContentType, []);
}
