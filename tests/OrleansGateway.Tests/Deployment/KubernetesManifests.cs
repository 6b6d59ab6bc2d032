using YamlDotNet.Core;
using YamlDotNet.Core.Events;
using YamlDotNet.Serialization;

namespace OrleansGateway.Tests.Deployment;

/// <summary>The objects of deploy/k8s, read from the files its kustomization.yaml lists (multi-document YAML).</summary>
internal sealed class KubernetesManifests(IReadOnlyList<KubernetesObject> objects)
{
    public IReadOnlyList<KubernetesObject> Objects { get; } = objects;

    public IEnumerable<KubernetesObject> OfKind(string kind) => Objects.Where(o => o.Kind == kind);

    public KubernetesObject? Find(string kind, string name) => Objects.FirstOrDefault(o => o.Kind == kind && o.Name == name);

    /// <summary>The workloads' containers, with the pod template they run in.</summary>
    public IEnumerable<(KubernetesObject Workload, PodTemplate Pod, Container Container)> Containers() =>
        Objects.Select(o => (Workload: o, Pod: o.PodTemplate))
            .Where(w => w.Pod is not null)
            .SelectMany(w => w.Pod!.Containers.Select(c => (w.Workload, w.Pod!, c)));

    /// <summary>
    /// A container's environment as the kubelet builds it: every key of the ConfigMaps and Secrets of <c>envFrom</c>,
    /// then <c>env</c>. A literal value is given; one from the downward API or a key reference is its source.
    /// </summary>
    public IReadOnlyDictionary<string, EnvironmentValue> EnvironmentOf(Container container)
    {
        var environment = new Dictionary<string, EnvironmentValue>(StringComparer.Ordinal);
        foreach (var source in container.EnvFrom)
        {
            var data = Find(source.Kind, source.Name)?.Data ?? new Dictionary<string, string>();
            foreach (var (key, value) in data)
            {
                environment[source.Prefix + key] = new EnvironmentValue(value, $"{source.Kind}/{source.Name}");
            }
        }

        foreach (var variable in container.Env)
        {
            environment[variable.Name] = variable.Value;
        }

        return environment;
    }

    public static KubernetesManifests Load(string directory) =>
        new([.. Kustomization.Load(directory).Resources.SelectMany(file => Parse(Path.Combine(directory, file)).Select(node => new KubernetesObject(file, node)))]);

    public static IEnumerable<Dictionary<string, object?>> Parse(string path)
    {
        var parser = new Parser(new StringReader(File.ReadAllText(path)));
        var deserializer = new DeserializerBuilder().Build();
        parser.Consume<StreamStart>();
        while (parser.Accept<DocumentStart>(out _))
        {
            if (deserializer.Deserialize<object>(parser) is { } document)
            {
                yield return Yaml.Map(document);
            }
        }
    }
}

/// <summary>kustomization.yaml: the resource files it applies.</summary>
internal sealed record Kustomization(IReadOnlyList<string> Resources)
{
    public static Kustomization Load(string directory)
    {
        var root = KubernetesManifests.Parse(Path.Combine(directory, "kustomization.yaml")).Single();
        return new Kustomization([.. Yaml.Sequence(root.GetValueOrDefault("resources")).Select(item => item?.ToString() ?? "")]);
    }
}

internal sealed class KubernetesObject(string file, Dictionary<string, object?> node)
{
    public string File { get; } = file;

    public string Kind { get; } = node.GetValueOrDefault("kind")?.ToString() ?? "";

    public string Name { get; } = Yaml.Text(node, "metadata", "name") ?? "";

    public Dictionary<string, object?> Spec { get; } = Yaml.Map(node.GetValueOrDefault("spec"));

    /// <summary>A ConfigMap's <c>data</c>, a Secret's <c>stringData</c> and <c>data</c> (keys only matter for the latter).</summary>
    public IReadOnlyDictionary<string, string> Data { get; } = new[] { "data", "stringData" }
        .SelectMany(section => Yaml.Map(node.GetValueOrDefault(section)))
        .ToDictionary(entry => entry.Key, entry => entry.Value?.ToString() ?? "");

    /// <summary>The pod template of a Deployment, StatefulSet or Job; null for other kinds.</summary>
    public PodTemplate? PodTemplate => Kind is "Deployment" or "StatefulSet" or "Job"
        ? new PodTemplate(Yaml.Map(Spec.GetValueOrDefault("template")))
        : null;

    /// <summary><c>spec.selector.matchLabels</c> (workloads, PodDisruptionBudgets) or <c>spec.selector</c> (Services).</summary>
    public IReadOnlyDictionary<string, string> Selector
    {
        get
        {
            var selector = Yaml.Map(Spec.GetValueOrDefault("selector"));
            var labels = selector.ContainsKey("matchLabels") ? Yaml.Map(selector["matchLabels"]) : selector;
            return labels.ToDictionary(entry => entry.Key, entry => entry.Value?.ToString() ?? "");
        }
    }

    public string? Text(params string[] path) => Yaml.Text(Spec, path);
}

internal sealed class PodTemplate(Dictionary<string, object?> node)
{
    private readonly Dictionary<string, object?> _spec = Yaml.Map(node.GetValueOrDefault("spec"));

    public IReadOnlyDictionary<string, string> Labels { get; } = Yaml.Map(Yaml.Map(node.GetValueOrDefault("metadata")).GetValueOrDefault("labels"))
        .ToDictionary(entry => entry.Key, entry => entry.Value?.ToString() ?? "");

    public int? TerminationGracePeriodSeconds => int.TryParse(Yaml.Text(_spec, "terminationGracePeriodSeconds"), out var seconds) ? seconds : null;

    public IReadOnlyList<Container> Containers => [.. Yaml.Sequence(_spec.GetValueOrDefault("containers")).Select(c => new Container(Yaml.Map(c)))];

    public bool Matches(IReadOnlyDictionary<string, string> selector) =>
        selector.Count > 0 && selector.All(label => Labels.GetValueOrDefault(label.Key) == label.Value);
}

internal sealed class Container(Dictionary<string, object?> node)
{
    public string Name { get; } = node.GetValueOrDefault("name")?.ToString() ?? "";

    /// <summary>The image's name without registry and tag: kustomization.yaml's <c>images</c> rewrites those.</summary>
    public string Image { get; } = (node.GetValueOrDefault("image")?.ToString() ?? "").Split(':')[0];

    public IReadOnlyList<string> Args { get; } = [.. Yaml.Sequence(node.GetValueOrDefault("args")).Select(a => a?.ToString() ?? "")];

    public IReadOnlyDictionary<string, int> Ports { get; } = Yaml.Sequence(node.GetValueOrDefault("ports")).Select(Yaml.Map)
        .Where(port => port.ContainsKey("name"))
        .ToDictionary(port => port["name"]!.ToString()!, port => int.Parse(port.GetValueOrDefault("containerPort")?.ToString() ?? "0", System.Globalization.CultureInfo.InvariantCulture));

    public IReadOnlyList<(string Name, EnvironmentValue Value)> Env { get; } = [.. Yaml.Sequence(node.GetValueOrDefault("env")).Select(Yaml.Map)
        .Select(variable => (variable.GetValueOrDefault("name")?.ToString() ?? "", EnvironmentValue.Of(variable)))];

    public IReadOnlyList<(string Kind, string Name, string Prefix)> EnvFrom { get; } = [.. Yaml.Sequence(node.GetValueOrDefault("envFrom")).Select(Yaml.Map)
        .Select(source => source.ContainsKey("secretRef")
            ? ("Secret", Yaml.Text(source, "secretRef", "name") ?? "", source.GetValueOrDefault("prefix")?.ToString() ?? "")
            : ("ConfigMap", Yaml.Text(source, "configMapRef", "name") ?? "", source.GetValueOrDefault("prefix")?.ToString() ?? ""))];

    /// <summary>A probe (<c>readinessProbe</c>, <c>livenessProbe</c>, <c>startupProbe</c>) as its HTTP path and port; null when absent.</summary>
    public (string? Path, string? Port)? Probe(string name) =>
        node.GetValueOrDefault(name) is { } probe ? (Yaml.Text(Yaml.Map(probe), "httpGet", "path"), Yaml.Text(Yaml.Map(probe), "httpGet", "port")) : null;

    /// <summary>A port by name or number.</summary>
    public int? ResolvePort(string? port) => port is null ? null : int.TryParse(port, out var number) ? number : Ports.TryGetValue(port, out var named) ? named : null;
}

/// <summary>An environment variable: a literal value, or where the kubelet takes it from.</summary>
internal sealed record EnvironmentValue(string? Literal, string? Source, string? FieldPath = null, (string Kind, string Name, string Key)? KeyRef = null)
{
    public static EnvironmentValue Of(Dictionary<string, object?> variable)
    {
        var from = Yaml.Map(variable.GetValueOrDefault("valueFrom"));
        if (from.Count == 0)
        {
            return new EnvironmentValue(variable.GetValueOrDefault("value")?.ToString() ?? "", null);
        }

        foreach (var (reference, kind) in new[] { ("secretKeyRef", "Secret"), ("configMapKeyRef", "ConfigMap") })
        {
            if (from.ContainsKey(reference))
            {
                var name = Yaml.Text(from, reference, "name") ?? "";
                var key = Yaml.Text(from, reference, "key") ?? "";
                return new EnvironmentValue(null, $"{kind}/{name}", KeyRef: (kind, name, key));
            }
        }

        var fieldPath = Yaml.Text(from, "fieldRef", "fieldPath");
        return new EnvironmentValue(null, "downward API", FieldPath: fieldPath);
    }
}

internal static class Yaml
{
    /// <summary>A mapping as YamlDotNet reads it, or one already converted (a path through nested mappings).</summary>
    public static Dictionary<string, object?> Map(object? node) => node as Dictionary<string, object?> ?? ComposeFile.Map(node);

    public static List<object?> Sequence(object? node) => ComposeFile.Sequence(node);

    public static string? Text(Dictionary<string, object?> node, params string[] path)
    {
        object? current = node;
        foreach (var step in path)
        {
            current = Map(current).GetValueOrDefault(step);
        }

        return current?.ToString();
    }
}
