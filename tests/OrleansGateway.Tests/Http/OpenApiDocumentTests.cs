using System.Net;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using OrleansGateway.Tests.Deployment;
using OrleansGateway.Tests.Infrastructure;

namespace OrleansGateway.Tests.Http;

/// <summary>
/// The OpenAPI documents the silo and the dashboard serve are the copies checked in under docs/openapi, so that a change
/// of the API shows in review. After a deliberate change, rewrite the copies with OGW_UPDATE_OPENAPI=1.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class OpenApiDocumentTests(PostgresFixture postgres)
{
    public const string UpdateVariable = "OGW_UPDATE_OPENAPI";

    [Fact]
    public async Task The_served_documents_are_the_checked_in_copies()
    {
        await using var silos = await HttpSiloCluster.StartAsync(await postgres.CreateMigratedDatabaseAsync("openapi"), silos: 1);
        await using var dashboard = await DashboardHarness.StartAsync(silos.ConnectionString, silos.ClusterId, Path.GetTempPath());
        using var silo = silos.ClientFor(0);
        using var anonymous = dashboard.Client(token: null);

        var differences = new List<string?>
        {
            await CompareAsync(silo, "silo-v1.json"),
            await CompareAsync(anonymous, "dashboard-v1.json"),
        };
        differences.RemoveAll(string.IsNullOrEmpty);
        Assert.True(differences.Count == 0, string.Join(Environment.NewLine, differences));
    }

    /// <summary>Null when the served document is the copy (or the copy was rewritten); else what differs and how to refresh it.</summary>
    private static async Task<string?> CompareAsync(HttpClient client, string copyName)
    {
        using var response = await client.GetAsync("openapi/v1.json");
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"GET {client.BaseAddress}openapi/v1.json: {(int)response.StatusCode} {body}");
        var served = Canonical(body);
        var path = Path.Combine(RepositoryFiles.Root, "docs", "openapi", copyName);
        if (Environment.GetEnvironmentVariable(UpdateVariable) == "1")
        {
            await File.WriteAllTextAsync(path, served);
            return null;
        }

        var copy = File.Exists(path) ? (await File.ReadAllTextAsync(path)).ReplaceLineEndings("\n") : "";
        if (copy == served)
        {
            return null;
        }

        var line = FirstDifferentLine(copy, served);
        return $"docs/openapi/{copyName} is not the served document (first difference at line {line.Number}: copy '{line.Copy}', served '{line.Served}'). "
            + $"If the API changed on purpose, refresh the copies: {UpdateVariable}=1 dotnet test --filter FullyQualifiedName~OpenApiDocumentTests";
    }

    // Indented, with a final line break: a copy that reads well in a diff, whatever the server's spacing.
    private static string Canonical(string json) =>
        JsonNode.Parse(json)!.ToJsonString(new JsonSerializerOptions { WriteIndented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }).ReplaceLineEndings("\n") + "\n";

    private static (int Number, string Copy, string Served) FirstDifferentLine(string copy, string served)
    {
        var copyLines = copy.Split('\n');
        var servedLines = served.Split('\n');
        for (var i = 0; ; i++)
        {
            var a = i < copyLines.Length ? copyLines[i] : "(end)";
            var b = i < servedLines.Length ? servedLines[i] : "(end)";
            if (a != b || i >= Math.Max(copyLines.Length, servedLines.Length))
            {
                return (i + 1, a.Trim(), b.Trim());
            }
        }
    }
}
