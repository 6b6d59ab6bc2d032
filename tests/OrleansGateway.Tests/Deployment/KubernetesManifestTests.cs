using System.Text.RegularExpressions;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;
using OrleansGateway.Hosting;
using OrleansGateway.Resume;
using OrleansGateway.ServiceDefaults;
using ClusterSettings = OrleansGateway.Dashboard.Hosting.ClusterSettings;

namespace OrleansGateway.Tests.Deployment;

/// <summary>
/// deploy/k8s cannot be applied here (no cluster): these tests read the manifests and check what would otherwise fail
/// only in a cluster, or worse, work until the first rolling update: settings nothing reads, probes on missing routes,
/// a grace period shorter than the drain, a rollout that stops a silo before its successor is ready.
/// </summary>
public sealed class KubernetesManifestTests
{
    private const string SiloImage = "orleans-gateway/silo";

    private const string DashboardImage = "orleans-gateway/dashboard";

    private const string CliImage = "orleans-gateway/cli";

    /// <summary>The address a pod would get, for the checks that run the silo's own reading of its settings.</summary>
    private const string SamplePodIp = "10.244.1.17";

    private static readonly Dictionary<string, (string Program, IReadOnlyList<string> Keys)> ProgramsByImage = new()
    {
        [SiloImage] = ("silo", ProgramSettings.Silo),
        [DashboardImage] = ("dashboard", ProgramSettings.Dashboard),
        [CliImage] = ("ogw", ProgramSettings.Cli),
    };

    private static string Directory => Path.Combine(RepositoryFiles.Root, "deploy", "k8s");

    private static KubernetesManifests Manifests => KubernetesManifests.Load(Directory);

    [Fact]
    public void TheKustomizationListsEveryManifestAndNothingElse()
    {
        var listed = Kustomization.Load(Directory).Resources.ToHashSet(StringComparer.Ordinal);
        var files = System.IO.Directory.GetFiles(Directory, "*.yaml").Select(Path.GetFileName).OfType<string>()
            .Where(file => file != "kustomization.yaml").ToHashSet(StringComparer.Ordinal);
        Assert.True(files.SetEquals(listed),
            $"kustomization.yaml lists {string.Join(", ", listed.Order())}; the folder holds {string.Join(", ", files.Order())}");
    }

    [Fact]
    public void EveryContainerRunsAnImageOfTheDockerfileAndSetsOnlySettingsItsProgramReads()
    {
        var manifests = Manifests;
        var containers = manifests.Containers().ToList();
        Assert.NotEmpty(containers);
        foreach (var (workload, _, container) in containers)
        {
            Assert.True(ProgramsByImage.TryGetValue(container.Image, out var program),
                $"{workload.Kind}/{workload.Name}: image {container.Image} is none of {string.Join(", ", ProgramsByImage.Keys)}");
            var problems = ProgramSettings.Unknown($"{workload.Kind}/{workload.Name}", manifests.EnvironmentOf(container).Keys, program.Program, program.Keys).ToList();
            Assert.True(problems.Count == 0, string.Join(Environment.NewLine, problems));
        }
    }

    [Fact]
    public void TheKeyCheckReportsAMisspelledSettingOfAConfigMap()
    {
        var path = Path.Combine(System.IO.Directory.CreateTempSubdirectory("ogw-k8s-").FullName, "silo.yaml");
        File.WriteAllText(path, """
            apiVersion: v1
            kind: ConfigMap
            metadata: { name: settings }
            data:
              Orleans__Endpoints__SiloPrt: "11111"
              gateway__resume__draintimeout: "00:00:20"
            ---
            apiVersion: apps/v1
            kind: Deployment
            metadata: { name: silo }
            spec:
              template:
                spec:
                  containers:
                    - name: silo
                      image: orleans-gateway/silo
                      envFrom: [ { configMapRef: { name: settings } } ]
                      env: [ { name: Urls, value: "http://0.0.0.0:8080" } ]
            """);
        File.WriteAllText(Path.Combine(Path.GetDirectoryName(path)!, "kustomization.yaml"), "resources: [silo.yaml]\n");
        var manifests = KubernetesManifests.Load(Path.GetDirectoryName(path)!);
        var container = manifests.Containers().Single().Container;

        var problems = ProgramSettings.Unknown("silo", manifests.EnvironmentOf(container).Keys, "silo", ProgramSettings.Silo).ToList();

        System.IO.Directory.Delete(Path.GetDirectoryName(path)!, recursive: true);
        Assert.True(problems.Count == 1 && problems[0].Contains("Orleans:Endpoints:SiloPrt", StringComparison.Ordinal),
            $"expected exactly one problem naming Orleans:Endpoints:SiloPrt, got: {string.Join(" | ", problems)}");
    }

    [Fact]
    public void EverySecretAndConfigMapAContainerReferencesExistsWithItsKey()
    {
        var manifests = Manifests;
        foreach (var (workload, _, container) in manifests.Containers())
        {
            foreach (var (kind, name, _) in container.EnvFrom)
            {
                Assert.True(manifests.Find(kind, name) is not null, $"{workload.Kind}/{workload.Name}: envFrom names {kind}/{name}, which no manifest defines");
            }

            foreach (var (variable, value) in container.Env.Where(e => e.Value.KeyRef is not null))
            {
                var (kind, name, key) = value.KeyRef!.Value;
                Assert.True(manifests.Find(kind, name)?.Data.ContainsKey(key) == true,
                    $"{workload.Kind}/{workload.Name}: {variable} reads key {key} of {kind}/{name}, which no manifest defines");
            }
        }
    }

    [Fact]
    public void TheSecretsArePlaceholders()
    {
        foreach (var secret in Manifests.OfKind("Secret"))
        {
            var real = secret.Data.Where(entry => !entry.Value.Contains("REPLACE-ME", StringComparison.Ordinal)).Select(entry => entry.Key).ToList();
            Assert.True(real.Count == 0, $"Secret/{secret.Name}: {string.Join(", ", real)} should be a REPLACE-ME placeholder, never a real value in the repository");
        }
    }

    [Fact]
    public void ProbesAskTheRealRoutesOnThePortTheProgramListensOn()
    {
        var manifests = Manifests;
        foreach (var (workload, _, container) in manifests.Containers().Where(c => c.Container.Image != CliImage))
        {
            var owner = $"{workload.Kind}/{workload.Name}";
            var urls = manifests.EnvironmentOf(container).GetValueOrDefault("Urls")?.Literal ?? "";
            var port = Regex.Match(urls, @"^https?://(0\.0\.0\.0|\*|\+|\[::\]):(?<port>\d+)");
            Assert.True(port.Success, $"{owner}: Urls `{urls}` should listen on every interface (0.0.0.0) on a port, else the kubelet reaches nothing");
            var listening = int.Parse(port.Groups["port"].Value, System.Globalization.CultureInfo.InvariantCulture);

            foreach (var (probe, path, required) in new[]
            {
                ("readinessProbe", HealthProbes.ReadinessPath, true),
                ("livenessProbe", HealthProbes.LivenessPath, true),
                ("startupProbe", HealthProbes.LivenessPath, false),
            })
            {
                if (container.Probe(probe) is not { } target)
                {
                    Assert.False(required, $"{owner}: no {probe}");
                    continue;
                }

                Assert.True(target.Path == path, $"{owner}: the {probe} asks {target.Path}, the program's route is {path}");
                Assert.True(container.ResolvePort(target.Port) == listening,
                    $"{owner}: the {probe} asks port {target.Port}, which is not the port of Urls ({listening})");
            }
        }
    }

    [Fact]
    public void TheGracePeriodExceedsTheShutdownTimeoutWhichHoldsTheDrainBudget()
    {
        var (silo, pod, container) = Silo();
        var configuration = LiteralConfiguration(container);
        var resume = new SessionResumeOptions();
        configuration.GetSection(SessionResumeOptions.Section).Bind(resume);
        var shutdown = configuration.GetValue("HostOptions:ShutdownTimeout", new HostOptions().ShutdownTimeout);
        var grace = TimeSpan.FromSeconds(pod.TerminationGracePeriodSeconds ?? 30);

        Assert.True(resume.StopBudget <= shutdown,
            $"{silo.Name}: the drain budget {resume.StopBudget} (DrainTimeout {resume.DrainTimeout} + InterruptGrace {resume.InterruptGrace} + StopMargin {resume.StopMargin}) exceeds HostOptions:ShutdownTimeout {shutdown}");
        Assert.True(grace > shutdown,
            $"{silo.Name}: terminationGracePeriodSeconds ({grace.TotalSeconds} s) should exceed HostOptions:ShutdownTimeout ({shutdown}), else the kubelet's SIGKILL cuts the drain short");
    }

    [Fact]
    public void SilosRollOneAtATimeWithTheNewOneReadyFirst()
    {
        var (silo, _, _) = Silo();
        Assert.Equal("RollingUpdate", silo.Text("strategy", "type"));
        Assert.True(silo.Text("strategy", "rollingUpdate", "maxUnavailable") == "0",
            $"{silo.Name}: maxUnavailable should be 0 so that a silo stops only once its successor is ready, it is {silo.Text("strategy", "rollingUpdate", "maxUnavailable") ?? "the default 25%"}");
        Assert.True(silo.Text("strategy", "rollingUpdate", "maxSurge") is { } surge && surge != "0",
            $"{silo.Name}: with maxUnavailable 0, maxSurge must allow a new pod");
    }

    [Fact]
    public void APodDisruptionBudgetCoversTheSilos()
    {
        var manifests = Manifests;
        var (_, pod, _) = Silo();
        var budgets = manifests.OfKind("PodDisruptionBudget").Where(budget => pod.Matches(budget.Selector)).ToList();
        Assert.True(budgets.Count == 1, $"expected one PodDisruptionBudget selecting the silo pods ({string.Join(", ", pod.Labels)}), found {budgets.Count}");
        Assert.True(budgets[0].Text("maxUnavailable") is not null || budgets[0].Text("minAvailable") is not null,
            $"PodDisruptionBudget/{budgets[0].Name} sets neither maxUnavailable nor minAvailable");
    }

    [Fact]
    public void SilosAdvertiseThePodIpUnderOneKeyAndPassTheirOwnValidation()
    {
        var (silo, _, container) = Silo();
        var environment = Manifests.EnvironmentOf(container);
        var advertised = SiloEndpointOptions.OrleansKeys.Single(pair => pair.Ours == "Orleans:AdvertisedIP");
        var sources = environment.Where(entry => ProgramSettings.ToKey(entry.Key) is var key
                && (key.Equals(advertised.Ours, StringComparison.OrdinalIgnoreCase) || key.Equals(advertised.Orleans, StringComparison.OrdinalIgnoreCase)))
            .ToList();
        Assert.True(sources.Count == 1 && sources[0].Value.FieldPath == "status.podIP",
            $"{silo.Name}: the advertised address should come from the downward API's status.podIP under one of {advertised.Ours}, {advertised.Orleans}; " +
            $"found {string.Join(", ", sources.Select(s => $"{s.Key} from {s.Value.FieldPath ?? s.Value.Literal}"))}");

        // The silo's own reading: the aliases agree, the ports are valid, and the address is the pod's.
        var options = SiloEndpointSettings.Read(LiteralConfiguration(container));
        Assert.Equal(SamplePodIp, options.AdvertisedIP);
    }

    [Fact]
    public void TheDashboardJoinsTheSilosClusterOnTheirDatabase()
    {
        var manifests = Manifests;
        var (_, _, silo) = Silo();
        var dashboard = manifests.Containers().Single(c => c.Container.Image == DashboardImage).Container;
        var siloCluster = ClusterSettings.Read(LiteralConfiguration(silo));
        var dashboardCluster = ClusterSettings.Read(LiteralConfiguration(dashboard));
        Assert.True((siloCluster.ClusterId, siloCluster.ServiceId) == (dashboardCluster.ClusterId, dashboardCluster.ServiceId),
            $"the dashboard's cluster {dashboardCluster.ClusterId}/{dashboardCluster.ServiceId} is not the silos' {siloCluster.ClusterId}/{siloCluster.ServiceId}");

        var connections = manifests.Containers().Select(c => (c.Workload.Name, Source: manifests.EnvironmentOf(c.Container).GetValueOrDefault("ConnectionStrings__Postgres")?.Source)).ToList();
        Assert.True(connections.All(c => c.Source is not null && c.Source.StartsWith("Secret/", StringComparison.Ordinal)) && connections.Select(c => c.Source).Distinct().Count() == 1,
            $"every container should take ConnectionStrings__Postgres from the same Secret: {string.Join(", ", connections.Select(c => $"{c.Name} from {c.Source ?? "nowhere"}"))}");

        var tokens = manifests.EnvironmentOf(dashboard).Keys.Select(ProgramSettings.ToKey);
        Assert.True(tokens.Any(key => key.StartsWith("Dashboard:OperatorToken", StringComparison.OrdinalIgnoreCase)),
            "the dashboard gets no Dashboard__OperatorToken(s), so it refuses to start");
    }

    [Fact]
    public void AJobMigratesTheDatabaseWithOgw()
    {
        var manifests = Manifests;
        var migrations = manifests.Containers().Where(c => c.Workload.Kind == "Job" && c.Container.Image == CliImage).ToList();
        var migrate = Assert.Single(migrations);
        Assert.True(migrate.Container.Args.SequenceEqual(["db", "migrate"]),
            $"Job/{migrate.Workload.Name}: the args should be `db migrate` (the image's entrypoint is ogw), they are `{string.Join(' ', migrate.Container.Args)}`");
    }

    [Fact]
    public void EveryServiceSelectsPodsAndTargetsANamedPortTheyHave()
    {
        var manifests = Manifests;
        foreach (var service in manifests.OfKind("Service"))
        {
            var pods = manifests.Objects.Select(o => o.PodTemplate).OfType<PodTemplate>().Where(pod => pod.Matches(service.Selector)).ToList();
            Assert.True(pods.Count > 0, $"Service/{service.Name} selects no pod template ({string.Join(", ", service.Selector)})");
            foreach (var target in Yaml.Sequence(service.Spec.GetValueOrDefault("ports")).Select(port => Yaml.Map(port).GetValueOrDefault("targetPort")?.ToString()))
            {
                Assert.True(pods.All(pod => pod.Containers.Any(c => c.ResolvePort(target) is not null)),
                    $"Service/{service.Name}: targetPort {target} is not a named port of the pods it selects");
            }
        }

        Assert.Contains(manifests.OfKind("Service"), service => Silo().Pod.Matches(service.Selector));
    }

    private static (KubernetesObject Workload, PodTemplate Pod, Container Container) Silo()
    {
        var silos = Manifests.Containers().Where(c => c.Container.Image == SiloImage).ToList();
        Assert.True(silos.Count == 1, $"expected one silo workload, found {silos.Count}");
        Assert.Contains(silos[0].Workload.Kind, new[] { "Deployment", "StatefulSet" });
        return silos[0];
    }

    /// <summary>The container's settings as the program would read them, with the pod's IP and name filled in.</summary>
    private static IConfiguration LiteralConfiguration(Container container)
    {
        var settings = Manifests.EnvironmentOf(container).Select(entry => KeyValuePair.Create(ProgramSettings.ToKey(entry.Key), entry.Value.FieldPath switch
        {
            "status.podIP" => SamplePodIp,
            "metadata.name" => "ogw-silo-7d9c5b6f4-x2kqp",
            _ => entry.Value.Literal,
        }));
        return new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
    }
}
