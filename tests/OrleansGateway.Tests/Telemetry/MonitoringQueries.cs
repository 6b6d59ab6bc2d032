using System.Text.Json;
using System.Text.RegularExpressions;
using YamlDotNet.RepresentationModel;

namespace OrleansGateway.Tests.Telemetry;

/// <summary>
/// The metric names that <c>deploy/grafana/orleans-gateway.json</c> and <c>deploy/prometheus/alerts.yml</c> query, read
/// from their PromQL: what a silo must export for the dashboard to draw and the alerts to fire.
/// </summary>
public static partial class MonitoringQueries
{
    private static readonly HashSet<string> Keywords = ["by", "without", "on", "ignoring", "group_left", "group_right", "and", "or", "unless", "bool", "offset", "inf", "nan"];

    public static string DeployFile(string relativePath)
    {
        var root = new DirectoryInfo(AppContext.BaseDirectory);
        while (root is not null && !File.Exists(Path.Combine(root.FullName, "OrleansGateway.sln")))
        {
            root = root.Parent;
        }

        return Path.Combine(root?.FullName ?? throw new InvalidOperationException("OrleansGateway.sln not found above the test binaries"), "deploy", relativePath);
    }

    /// <summary>Every <c>expr</c> of the Grafana dashboard's panels' targets.</summary>
    public static IReadOnlyList<string> GrafanaExpressions()
    {
        using var document = JsonDocument.Parse(File.ReadAllText(DeployFile("grafana/orleans-gateway.json")));
        return [.. document.RootElement.GetProperty("panels").EnumerateArray()
            .SelectMany(panel => panel.TryGetProperty("targets", out var targets) ? targets.EnumerateArray() : Enumerable.Empty<JsonElement>())
            .Select(target => target.GetProperty("expr").GetString()!)];
    }

    /// <summary>Every rule's <c>expr</c> of the Prometheus alert rules.</summary>
    public static IReadOnlyList<string> AlertExpressions()
    {
        var yaml = new YamlStream();
        using (var reader = new StreamReader(DeployFile("prometheus/alerts.yml")))
        {
            yaml.Load(reader);
        }

        var root = (YamlMappingNode)yaml.Documents[0].RootNode;
        return [.. ((YamlSequenceNode)root["groups"]).Cast<YamlMappingNode>()
            .SelectMany(group => ((YamlSequenceNode)group["rules"]).Cast<YamlMappingNode>())
            .Select(rule => ((YamlScalarNode)rule["expr"]).Value!)];
    }

    /// <summary>
    /// The metric names of a PromQL expression: its identifiers without label matchers, grouping labels, ranges,
    /// strings, function names (followed by a parenthesis), keywords and Grafana's variables.
    /// </summary>
    public static IReadOnlySet<string> MetricNames(string expression)
    {
        var bare = Strings().Replace(expression, "\"\"");
        bare = Matchers().Replace(bare, "");
        bare = Grouping().Replace(bare, " ");
        bare = Ranges().Replace(bare, "");
        return Identifiers().Matches(bare).Select(match => match.Groups["name"].Value)
            .Where(name => !Keywords.Contains(name) && !name.StartsWith('$'))
            .ToHashSet();
    }

    [GeneratedRegex("\"(?:[^\"\\\\]|\\\\.)*\"")]
    private static partial Regex Strings();

    [GeneratedRegex(@"\{[^}]*\}")]
    private static partial Regex Matchers();

    [GeneratedRegex(@"\b(?:by|without|on|ignoring)\s*\([^)]*\)")]
    private static partial Regex Grouping();

    [GeneratedRegex(@"\[[^\]]*\]")]
    private static partial Regex Ranges();

    [GeneratedRegex(@"(?<![\w$.])(?<name>\$?[A-Za-z_:][\w:]*)(?!\s*\()(?![\w.])")]
    private static partial Regex Identifiers();
}
