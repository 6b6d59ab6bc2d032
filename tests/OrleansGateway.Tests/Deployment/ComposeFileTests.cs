using System.Reflection;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Configuration;
using Npgsql;
using ClusterSettings = OrleansGateway.Dashboard.Hosting.ClusterSettings;
using DashboardSettings = OrleansGateway.Dashboard.Hosting.DashboardSettings;
using OrleansGateway.Hosting;
using Xunit;
using YamlDotNet.Core;
using YamlDotNet.Serialization;

namespace OrleansGateway.Tests.Deployment;

/// <summary>
/// docker-compose.yml and the Dockerfile cannot be run here (no Docker engine): these tests read them and check
/// what would otherwise only fail at <c>docker compose up</c>, above all that the silos are configured with
/// settings the silo really reads.
/// </summary>
public sealed class ComposeFileTests
{
    private static readonly string[] SiloServices = ["silo1", "silo2", "silo3"];

    private const string DashboardService = "dashboard";

    /// <summary>The services that serve HTTP, with a /readyz healthcheck and a published port.</summary>
    private static readonly string[] HttpServices = [.. SiloServices, DashboardService];

    private static readonly string[] RequiredSiloKeys =
        ["ConnectionStrings:Postgres", "Orleans:ClusterId", "Orleans:SiloPort", "Orleans:GatewayPort", "Urls"];

    private static string RepoRoot => Infrastructure.RepoRoot.Path;

    private static ComposeFile Compose => ComposeFile.Parse(File.ReadAllText(Path.Combine(RepoRoot, "docker-compose.yml")));

    private static Dockerfile Docker => Dockerfile.Parse(File.ReadAllText(Path.Combine(RepoRoot, "Dockerfile")));

    [Fact]
    public void TheServicesExist()
    {
        var compose = Compose;
        string[] expected = ["postgres", "migrate", .. SiloServices, DashboardService];
        var missing = expected.Where(name => !compose.Services.ContainsKey(name)).ToList();
        Assert.True(missing.Count == 0,
            $"docker-compose.yml lacks the service(s) {string.Join(", ", missing)}; it has {string.Join(", ", compose.Services.Keys)}");
    }

    [Fact]
    public void PostgresHasAPgIsReadyHealthcheckAndANamedVolume()
    {
        var compose = Compose;
        var postgres = compose.Service("postgres");
        Assert.True(postgres.HealthcheckTest.Contains("pg_isready", StringComparison.Ordinal),
            $"postgres: the healthcheck should run pg_isready, it runs `{postgres.HealthcheckTest}`");
        var named = postgres.VolumeSources.Where(compose.Volumes.Contains).ToList();
        Assert.True(named.Count > 0,
            $"postgres: no named volume (top-level `volumes:`) holds the data; its volumes are {string.Join(", ", postgres.VolumeSources)}");
    }

    [Fact]
    public void MigrateRunsOgwDbMigrateOncePostgresIsHealthy()
    {
        var migrate = Compose.Service("migrate");
        Assert.True(migrate.BuildTarget == "cli", $"migrate: should be built from the Dockerfile target `cli` (ogw), not `{migrate.BuildTarget}`");
        Assert.True(migrate.Command.SequenceEqual(["db", "migrate"]),
            $"migrate: the command should be `db migrate`, it is `{string.Join(' ', migrate.Command)}`");
        Assert.True(migrate.DependsOn.GetValueOrDefault("postgres") == "service_healthy",
            "migrate: should depend on postgres with condition service_healthy");
        Assert.True(migrate.Environment.ContainsKey("ConnectionStrings__Postgres"),
            "migrate: ConnectionStrings__Postgres is not set, so ogw would migrate its embedded database instead");
    }

    [Fact]
    public void EverySiloHasAReadyzHealthcheckAndStartsAfterTheMigration()
    {
        var compose = Compose;
        foreach (var name in SiloServices)
        {
            var silo = compose.Service(name);
            Assert.True(silo.HealthcheckTest.Contains("/readyz", StringComparison.Ordinal),
                $"{name}: the healthcheck should request /readyz, it runs `{silo.HealthcheckTest}`");
            Assert.True(silo.DependsOn.GetValueOrDefault("migrate") == "service_completed_successfully",
                $"{name}: should depend on migrate with condition service_completed_successfully (the silo refuses an unmigrated database), " +
                $"it has {(silo.DependsOn.TryGetValue("migrate", out var condition) ? condition : "no dependency on migrate")}");
            Assert.True(silo.BuildTarget == "silo", $"{name}: should be built from the Dockerfile target `silo`, not `{silo.BuildTarget}`");
            Assert.True(silo.StopGracePeriod is { } grace && grace > TimeSpan.FromSeconds(30),
                $"{name}: stop_grace_period should exceed the host's 30 s shutdown timeout so the silo can drain, it is {silo.StopGracePeriod?.ToString() ?? "Docker's default of 10 s"}");
        }
    }

    [Fact]
    public void TheHealthcheckToolIsInstalledInTheSiloImage()
    {
        var compose = Compose;
        var docker = Docker;
        foreach (var name in HttpServices)
        {
            var silo = compose.Service(name);
            var tool = silo.HealthcheckCommand.FirstOrDefault();
            if (tool is "curl" or "wget")
            {
                var stage = docker.StageText(silo.BuildTarget ?? "");
                Assert.True(Regex.IsMatch(stage, $@"\binstall\b[^\n]*\b{tool}\b"),
                    $"{name}: the healthcheck runs {tool}, which the aspnet image lacks and the Dockerfile stage `{silo.BuildTarget}` does not install");
            }
        }
    }

    [Fact]
    public void SilosUseOnlySettingsTheSiloReads()
    {
        var problems = ComposeChecks.UnknownSiloSettings(File.ReadAllText(Path.Combine(RepoRoot, "docker-compose.yml")), SiloServices);
        Assert.True(problems.Count == 0, string.Join(Environment.NewLine, problems));
    }

    [Fact]
    public void TheKeyCheckReportsAMisspelledSetting()
    {
        const string compose = """
            services:
              silo1:
                environment:
                  ConnectionStrings__Postgres: "Host=postgres"
                  Orleans__ClusterId: ogw
                  Orleans__SiloPrt: "11111"
                  Urls: http://0.0.0.0:8080
              silo2:
                environment:
                  - Orleans__SiloPort=11112
                  - Orleans__gatewayport=30001
            """;
        var problems = ComposeChecks.UnknownSiloSettings(compose, ["silo1", "silo2"]);
        Assert.True(problems.Count == 1 && problems[0].Contains("Orleans:SiloPrt", StringComparison.Ordinal),
            $"expected exactly one problem naming Orleans:SiloPrt (keys are case-insensitive, so Orleans:gatewayport is fine), got: {string.Join(" | ", problems)}");
    }

    [Fact]
    public void EverySiloSetsTheRequiredSettings()
    {
        var compose = Compose;
        foreach (var name in SiloServices)
        {
            var settings = compose.Service(name).Settings;
            var missing = RequiredSiloKeys.Where(key => string.IsNullOrWhiteSpace(settings.GetValueOrDefault(key))).ToList();
            Assert.True(missing.Count == 0, $"{name}: the environment lacks {string.Join(", ", missing.Select(ComposeChecks.ToEnvironmentName))}");
        }
    }

    [Fact]
    public void EverySiloPassesTheSilosOwnValidation()
    {
        var compose = Compose;
        foreach (var name in SiloServices)
        {
            var settings = compose.Service(name).Settings;
            var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
            var options = new SiloEndpointOptions();
            try
            {
                configuration.GetSection(SiloEndpointOptions.Section).Bind(options);
            }
            catch (InvalidOperationException exception)
            {
                Assert.Fail($"{name}: the Orleans settings do not bind to SiloEndpointOptions: {exception.GetBaseException().Message}");
            }

            var problems = options.Validate().ToList();
            Assert.True(problems.Count == 0, $"{name}: {string.Join("; ", problems)}");
            Assert.True(SiloStartupChecks.RequireConnectionString(configuration).Length > 0);
        }
    }

    [Fact]
    public void EverySiloAdvertisesItsOwnHostName()
    {
        var compose = Compose;
        foreach (var name in SiloServices)
        {
            var silo = compose.Service(name);
            var advertised = silo.Settings.GetValueOrDefault("Orleans:AdvertisedIP");
            string[] ownNames = silo.Hostname is { } hostname ? [name, hostname] : [name];
            Assert.True(advertised is not null && ownNames.Contains(advertised, StringComparer.OrdinalIgnoreCase),
                $"{name}: Orleans__AdvertisedIP should be the silo's own host name ({string.Join(" or ", ownNames)}) so the other silos reach it; " +
                $"it is {advertised ?? "unset, which advertises 127.0.0.1"}");
        }
    }

    [Fact]
    public void PortsAreDistinctAcrossSilos()
    {
        var compose = Compose;
        var silos = SiloServices.Select(name => (Name: name, Service: compose.Service(name))).ToList();
        foreach (var key in new[] { "Orleans:SiloPort", "Orleans:GatewayPort" })
        {
            var clashes = silos.GroupBy(s => s.Service.Settings.GetValueOrDefault(key)).Where(g => g.Count() > 1).ToList();
            Assert.True(clashes.Count == 0,
                $"{key} is shared: {string.Join("; ", clashes.Select(g => $"{g.Key} by {string.Join(", ", g.Select(s => s.Name))}"))}");
        }

        var siloPorts = silos.Select(s => s.Service.Settings.GetValueOrDefault("Orleans:SiloPort")).ToHashSet();
        var overlap = silos.Select(s => s.Service.Settings.GetValueOrDefault("Orleans:GatewayPort")).Where(siloPorts.Contains).ToList();
        Assert.True(overlap.Count == 0, $"port(s) {string.Join(", ", overlap)} serve as a silo port and as a gateway port");

        var published = silos.SelectMany(s => s.Service.Ports.Select(p => (s.Name, p.Host))).Where(p => p.Host is not null).ToList();
        Assert.True(published.Count >= SiloServices.Length, $"every silo should publish its HTTP port on the host; published: {published.Count}");
        var hostClashes = published.GroupBy(p => p.Host).Where(g => g.Count() > 1).ToList();
        Assert.True(hostClashes.Count == 0,
            $"host port(s) published twice: {string.Join("; ", hostClashes.Select(g => $"{g.Key} by {string.Join(", ", g.Select(p => p.Name))}"))}");
    }

    [Fact]
    public void TheHealthcheckAndThePublishedPortReachTheHttpListener()
    {
        var compose = Compose;
        foreach (var name in HttpServices)
        {
            var silo = compose.Service(name);
            var urls = silo.Settings.GetValueOrDefault("Urls") ?? "";
            var listeners = urls.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                .Select(url => Regex.Match(url, @"^https?://(?<host>\[[^\]]*\]|[^:/]+):(?<port>\d+)"))
                .Where(match => match.Success)
                .Select(match => (Host: match.Groups["host"].Value, Port: match.Groups["port"].Value))
                .ToList();
            Assert.True(listeners.Count > 0, $"{name}: Urls `{urls}` names no http://host:port");
            Assert.True(listeners.All(l => l.Host is "0.0.0.0" or "*" or "+" or "[::]"),
                $"{name}: Urls `{urls}` must listen on every interface (0.0.0.0), else the published port reaches nothing");
            var ports = listeners.Select(l => l.Port).ToHashSet();

            var healthPort = Regex.Match(silo.HealthcheckTest, @"https?://[^/:\s]+:(?<port>\d+)/readyz");
            Assert.True(healthPort.Success && ports.Contains(healthPort.Groups["port"].Value),
                $"{name}: the healthcheck `{silo.HealthcheckTest}` should request /readyz on the port of Urls ({string.Join(", ", ports)})");
            Assert.True(silo.Ports.Count > 0 && silo.Ports.All(p => ports.Contains(p.Container)),
                $"{name}: the published port(s) {string.Join(", ", silo.Ports.Select(p => $"{p.Host}:{p.Container}"))} should target the port of Urls ({string.Join(", ", ports)})");
        }
    }

    [Fact]
    public void SilosShareOneClusterIdAndServiceId()
    {
        var compose = Compose;
        foreach (var key in new[] { "Orleans:ClusterId", "Orleans:ServiceId" })
        {
            var values = SiloServices
                .Select(name => (Name: name, Value: compose.Service(name).Settings.GetValueOrDefault(key) ?? DefaultOf(key)))
                .ToList();
            Assert.True(values.Select(v => v.Value).Distinct().Count() == 1,
                $"the silos form one cluster only with one {key}: {string.Join(", ", values.Select(v => $"{v.Name}={v.Value}"))}");
        }

        static string? DefaultOf(string key) =>
            typeof(SiloEndpointOptions).GetProperty(key["Orleans:".Length..])?.GetValue(new SiloEndpointOptions()) as string;
    }

    [Fact]
    public void ConnectionStringsPointAtThePostgresService()
    {
        var compose = Compose;
        var postgres = compose.Service("postgres").Environment;
        var user = postgres.GetValueOrDefault("POSTGRES_USER") ?? "postgres";
        var database = postgres.GetValueOrDefault("POSTGRES_DB") ?? user;
        var password = postgres.GetValueOrDefault("POSTGRES_PASSWORD");
        foreach (var name in SiloServices.Append("migrate").Append(DashboardService))
        {
            var connectionString = compose.Service(name).Environment.GetValueOrDefault("ConnectionStrings__Postgres");
            Assert.True(connectionString is not null, $"{name}: ConnectionStrings__Postgres is not set");
            NpgsqlConnectionStringBuilder builder;
            try
            {
                builder = new NpgsqlConnectionStringBuilder(connectionString);
            }
            catch (ArgumentException exception)
            {
                Assert.Fail($"{name}: ConnectionStrings__Postgres is not a valid connection string: {exception.Message}");
                return;
            }

            Assert.True(builder.Host == "postgres", $"{name}: the connection string should name the host `postgres` (the compose service), not `{builder.Host}`");
            Assert.True(builder.Port == 5432, $"{name}: inside the compose network PostgreSQL listens on 5432, not {builder.Port}");
            Assert.True(builder.Username == user && builder.Database == database && builder.Password == password,
                $"{name}: the connection string's user/database/password ({builder.Username}/{builder.Database}/{builder.Password}) " +
                $"should match the postgres service's ({user}/{database}/{password})");
        }
    }

    [Fact]
    public void TheDockerfileHasTheSiloAndCliStagesComposeBuilds()
    {
        var docker = Docker;
        foreach (var (stage, assembly) in new[] { ("silo", "OrleansGateway.Silo.dll"), ("cli", "ogw.dll"), ("dashboard", "OrleansGateway.Dashboard.dll") })
        {
            Assert.True(docker.Stages.Any(s => s.Name == stage), $"the Dockerfile has no stage `{stage}`; its stages: {string.Join(", ", docker.Stages.Select(s => s.Name ?? "(unnamed)"))}");
            Assert.True(Regex.IsMatch(docker.StageText(stage), $@"^ENTRYPOINT\s.*""{Regex.Escape(assembly)}""", RegexOptions.Multiline),
                $"the Dockerfile stage `{stage}` should run {assembly}");
        }

        var compose = Compose;
        foreach (var (name, service) in compose.Services)
        {
            if (service.BuildTarget is { } target)
            {
                Assert.True(docker.Stages.Any(s => s.Name == target),
                    $"{name}: build.target `{target}` is not a stage of the Dockerfile ({string.Join(", ", docker.Stages.Select(s => s.Name ?? "(unnamed)"))})");
            }
        }
    }

    [Fact]
    public void EveryPathTheDockerfileCopiesExists()
    {
        var docker = Docker;
        var missing = docker.CopiedFromContext
            .Where(path => path != "." && !File.Exists(Path.Combine(RepoRoot, path)) && !Directory.Exists(Path.Combine(RepoRoot, path)))
            .ToList();
        Assert.True(missing.Count == 0, $"the Dockerfile copies path(s) missing from the repository: {string.Join(", ", missing)}");

        var projects = Regex.Matches(docker.InstructionText, @"[\w./-]+\.csproj").Select(m => m.Value).Distinct().ToList();
        Assert.True(projects.Count > 0, "the Dockerfile names no project");
        var missingProjects = projects.Where(path => !File.Exists(Path.Combine(RepoRoot, path))).ToList();
        Assert.True(missingProjects.Count == 0, $"the Dockerfile names project(s) missing from the repository: {string.Join(", ", missingProjects)}");
    }

    [Fact]
    public void TheDockerfileCopiesEveryProjectOfTheSolutionBeforeRestoringIt()
    {
        var docker = Docker;
        var restore = docker.Instructions.FindIndex(i => i.Keyword == "RUN" && Regex.IsMatch(i.Arguments, @"dotnet\s+restore\b[^&|;]*\.sln\b"));
        if (restore < 0)
        {
            return; // The projects are restored one by one: each names its own files.
        }

        var copiedBefore = docker.Instructions.Take(restore)
            .Where(i => i.Keyword == "COPY" && !i.Arguments.StartsWith("--from", StringComparison.Ordinal))
            .SelectMany(i => Dockerfile.CopySources(i.Arguments))
            .ToHashSet();
        var solution = File.ReadAllText(Path.Combine(RepoRoot, "OrleansGateway.sln"));
        var projects = Regex.Matches(solution, @"""(?<path>[^""]+\.csproj)""").Select(m => m.Groups["path"].Value.Replace('\\', '/')).ToList();
        var missing = projects.Where(project => !copiedBefore.Contains(project)).ToList();
        Assert.True(missing.Count == 0,
            $"`dotnet restore OrleansGateway.sln` in the Dockerfile runs before these projects of the solution are copied, so it fails: {string.Join(", ", missing)}");
    }

    [Fact]
    public void TheDashboardUsesOnlySettingsItReads()
    {
        var problems = ComposeChecks.UnknownDashboardSettings(File.ReadAllText(Path.Combine(RepoRoot, "docker-compose.yml")), DashboardService);
        Assert.True(problems.Count == 0, string.Join(Environment.NewLine, problems));
    }

    [Fact]
    public void TheKeyCheckReportsAMisspelledDashboardSetting()
    {
        const string compose = """
            services:
              dashboard:
                environment:
                  ConnectionStrings__Postgres: "Host=postgres"
                  Dashboard__OperatorTokens__alice: "a"
                  Dashboard__OperatorTokn: "b"
                  dashboard__allowanonymousreadonly: "true"
                  Gateway__Resume__FreshnessWindow: "01:00:00"
            """;
        var problems = ComposeChecks.UnknownDashboardSettings(compose, DashboardService);
        Assert.True(problems.Count == 1 && problems[0].Contains("Dashboard:OperatorTokn", StringComparison.Ordinal),
            $"expected exactly one problem naming Dashboard:OperatorTokn, got: {string.Join(" | ", problems)}");
    }

    [Fact]
    public void TheDashboardJoinsTheSilosClusterWithAToken()
    {
        var compose = Compose;
        var dashboard = compose.Service(DashboardService);
        Assert.True(dashboard.BuildTarget == "dashboard", $"dashboard: should be built from the Dockerfile target `dashboard`, not `{dashboard.BuildTarget}`");
        Assert.True(dashboard.DependsOn.GetValueOrDefault("migrate") == "service_completed_successfully",
            "dashboard: should depend on migrate with condition service_completed_successfully (it refuses an unmigrated database)");
        Assert.True(dashboard.HealthcheckTest.Contains("/readyz", StringComparison.Ordinal),
            $"dashboard: the healthcheck should request /readyz, it runs `{dashboard.HealthcheckTest}`");

        var settings = dashboard.Settings;
        foreach (var key in new[] { "ConnectionStrings:Postgres", "Urls" })
        {
            Assert.False(string.IsNullOrWhiteSpace(settings.GetValueOrDefault(key)), $"dashboard: the environment lacks {ComposeChecks.ToEnvironmentName(key)}");
        }

        // Without a token (or read-only mode) it refuses to start: the compose file must pass one through.
        Assert.True(settings.Keys.Any(key => key.StartsWith("Dashboard:OperatorToken", StringComparison.OrdinalIgnoreCase))
                || string.Equals(settings.GetValueOrDefault("Dashboard:AllowAnonymousReadOnly"), "true", StringComparison.OrdinalIgnoreCase),
            "dashboard: sets neither Dashboard__OperatorToken(s) nor Dashboard__AllowAnonymousReadOnly=true, so it cannot start");

        // A token taken from the environment must be required there (${VAR:?reason}): with ${VAR:-} or ${VAR} compose
        // would pass an empty token when the variable is missing, and the dashboard would fail and restart forever.
        foreach (var (key, value) in settings.Where(setting => setting.Key.StartsWith("Dashboard:OperatorToken", StringComparison.OrdinalIgnoreCase)))
        {
            Assert.True(value is null || !value.Contains("${", StringComparison.Ordinal) || System.Text.RegularExpressions.Regex.IsMatch(value, @"^\$\{[A-Za-z_][A-Za-z0-9_]*:\?[^}]+\}$"),
                $"dashboard: {ComposeChecks.ToEnvironmentName(key)} is `{value}`; take it from the environment as ${{NAME:?why it is needed}} so that compose refuses to start without it");
        }

        // A client of another cluster id or service id would find no gateway.
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        var cluster = ClusterSettings.Read(configuration);
        foreach (var silo in SiloServices)
        {
            var siloSettings = compose.Service(silo).Settings;
            var siloCluster = (siloSettings.GetValueOrDefault("Orleans:ClusterId") ?? new SiloEndpointOptions().ClusterId,
                siloSettings.GetValueOrDefault("Orleans:ServiceId") ?? new SiloEndpointOptions().ServiceId);
            Assert.True((cluster.ClusterId, cluster.ServiceId) == siloCluster,
                $"dashboard: cluster {cluster.ClusterId}/{cluster.ServiceId} is not {silo}'s {siloCluster.Item1}/{siloCluster.Item2}");
            Assert.True(siloSettings.GetValueOrDefault("ConnectionStrings:Postgres") == settings.GetValueOrDefault("ConnectionStrings:Postgres"),
                $"dashboard: its database is not {silo}'s: it would see another membership table");
        }

        var siloHostPorts = SiloServices.SelectMany(name => compose.Service(name).Ports.Select(p => p.Host)).ToHashSet();
        Assert.True(dashboard.Ports.Count > 0 && dashboard.Ports.All(p => p.Host is not null && !siloHostPorts.Contains(p.Host)),
            $"dashboard: should publish its HTTP port on a host port of its own; it publishes {string.Join(", ", dashboard.Ports.Select(p => $"{p.Host}:{p.Container}"))}");
    }

    [Fact]
    public void EveryProjectTheDockerfilePublishesIsRestoredFromProjectFilesCopiedBeforeTheRestore()
    {
        var docker = Docker;
        var restore = docker.Instructions.FindIndex(i => i.Keyword == "RUN" && Regex.IsMatch(i.Arguments, @"dotnet\s+restore\b"));
        Assert.True(restore >= 0, "the Dockerfile runs no `dotnet restore`");
        var restored = Regex.Matches(docker.Instructions[restore].Arguments, @"[\w./-]+\.(csproj|sln)").Select(m => m.Value).ToList();
        var closure = restored.Any(path => path.EndsWith(".sln", StringComparison.Ordinal))
            ? Regex.Matches(File.ReadAllText(Path.Combine(RepoRoot, "OrleansGateway.sln")), @"""(?<path>[^""]+\.csproj)""").Select(m => m.Groups["path"].Value.Replace('\\', '/')).ToHashSet()
            : ProjectClosure(restored);
        var published = docker.Instructions.Where(i => i.Keyword == "RUN")
            .SelectMany(i => Regex.Matches(i.Arguments, @"dotnet\s+publish\s+(?<project>[\w./-]+\.csproj)").Select(m => m.Groups["project"].Value))
            .ToList();
        Assert.True(published.Count > 0, "the Dockerfile publishes no project");
        var unrestored = published.Where(project => !closure.Contains(project)).ToList();
        Assert.True(unrestored.Count == 0,
            $"`dotnet publish --no-restore` of {string.Join(", ", unrestored)} fails: `dotnet restore {string.Join(' ', restored)}` does not reach it");

        var copiedBefore = docker.Instructions.Take(restore)
            .Where(i => i.Keyword == "COPY" && !i.Arguments.StartsWith("--from", StringComparison.Ordinal))
            .SelectMany(i => Dockerfile.CopySources(i.Arguments))
            .ToHashSet();
        var missing = closure.Where(project => !copiedBefore.Contains(project)).ToList();
        Assert.True(missing.Count == 0, $"the restore needs these project files, which the Dockerfile copies only after it: {string.Join(", ", missing)}");
    }

    /// <summary>The projects and every project they reference, transitively, as paths from the repository root.</summary>
    private static HashSet<string> ProjectClosure(IEnumerable<string> projects)
    {
        var closure = new HashSet<string>();
        var pending = new Stack<string>(projects);
        while (pending.TryPop(out var project))
        {
            if (!closure.Add(project))
            {
                continue;
            }

            var directory = Path.GetDirectoryName(project) ?? "";
            foreach (Match reference in Regex.Matches(File.ReadAllText(Path.Combine(RepoRoot, project)), @"<ProjectReference\s+Include=""(?<path>[^""]+)"""))
            {
                var full = Path.GetFullPath(Path.Combine(RepoRoot, directory, reference.Groups["path"].Value.Replace('\\', '/')));
                pending.Push(Path.GetRelativePath(RepoRoot, full).Replace('\\', '/'));
            }
        }

        return closure;
    }
}

/// <summary>The check of the silos' environment, on any compose text, so that a test can show it fails.</summary>
internal static class ComposeChecks
{
    /// <summary>The configuration keys the silo reads: <c>ConnectionStrings:Postgres</c>, <c>Urls</c>, and every settable property of <see cref="SiloEndpointOptions"/>.</summary>
    public static IReadOnlySet<string> SiloSettings { get; } = typeof(SiloEndpointOptions)
        .GetProperties(BindingFlags.Public | BindingFlags.Instance)
        .Where(property => property.SetMethod is { IsPublic: true } && property.GetIndexParameters().Length == 0)
        .Select(property => $"{SiloEndpointOptions.Section}:{property.Name}")
        .Append("ConnectionStrings:Postgres")
        .Append("Urls")
        .ToHashSet(StringComparer.OrdinalIgnoreCase);

    /// <summary>
    /// The configuration keys the dashboard reads: <c>ConnectionStrings:Postgres</c>, <c>Urls</c>, its cluster settings
    /// (<see cref="ClusterSettings.Keys"/>), and every settable property of <see cref="DashboardSettings"/>; a dictionary
    /// property (named tokens) stands for every key below it.
    /// </summary>
    public static IReadOnlyList<string> DashboardSettingPatterns { get; } = typeof(DashboardSettings)
        .GetProperties(BindingFlags.Public | BindingFlags.Instance)
        .Where(property => property.SetMethod is { IsPublic: true } && property.GetIndexParameters().Length == 0)
        .Select(property => $"{DashboardSettings.Section}:{property.Name}" + (property.PropertyType.IsGenericType ? ":*" : ""))
        .Concat(ClusterSettings.Keys)
        .Append("ConnectionStrings:Postgres")
        .Append("Urls")
        .ToList();

    public static string ToEnvironmentName(string key) => key.Replace(":", "__", StringComparison.Ordinal);

    /// <summary>One line per environment variable of the dashboard service that the dashboard does not read.</summary>
    public static IReadOnlyList<string> UnknownDashboardSettings(string composeYaml, string service)
    {
        var compose = ComposeFile.Parse(composeYaml);
        if (!compose.Services.TryGetValue(service, out var dashboard))
        {
            return [$"{service}: no such service"];
        }

        return [.. dashboard.Environment.Keys
            .Select(variable => (variable, key: variable.Replace("__", ":", StringComparison.Ordinal)))
            .Where(pair => !DashboardSettingPatterns.Any(pattern => Matches(pattern, pair.key)))
            .Select(pair => $"{service}: {pair.variable} ({pair.key}) is not a setting the dashboard reads; it reads {string.Join(", ", DashboardSettingPatterns)}")];

        static bool Matches(string pattern, string key) => pattern.EndsWith(":*", StringComparison.Ordinal)
            ? key.StartsWith(pattern[..^1], StringComparison.OrdinalIgnoreCase) && key.Length > pattern.Length - 1
            : string.Equals(pattern, key, StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>One line per environment variable of the given services that the silo does not read.</summary>
    public static IReadOnlyList<string> UnknownSiloSettings(string composeYaml, IEnumerable<string> siloServices)
    {
        var compose = ComposeFile.Parse(composeYaml);
        var problems = new List<string>();
        foreach (var name in siloServices)
        {
            if (!compose.Services.TryGetValue(name, out var service))
            {
                problems.Add($"{name}: no such service");
                continue;
            }

            foreach (var variable in service.Environment.Keys)
            {
                var key = variable.Replace("__", ":", StringComparison.Ordinal);
                if (!SiloSettings.Contains(key))
                {
                    problems.Add($"{name}: {variable} ({key}) is not a setting the silo reads; it reads {string.Join(", ", SiloSettings.Order(StringComparer.Ordinal))}");
                }
            }
        }

        return problems;
    }
}

/// <summary>The parts of a compose file these tests look at. Anchors and merge keys (<c>&lt;&lt;: *x</c>) are resolved.</summary>
internal sealed class ComposeFile
{
    private ComposeFile(IReadOnlyDictionary<string, ComposeService> services, IReadOnlySet<string> volumes)
    {
        Services = services;
        Volumes = volumes;
    }

    public IReadOnlyDictionary<string, ComposeService> Services { get; }

    /// <summary>The named volumes (top-level <c>volumes:</c>).</summary>
    public IReadOnlySet<string> Volumes { get; }

    public ComposeService Service(string name) =>
        Services.TryGetValue(name, out var service) ? service : throw new Xunit.Sdk.XunitException($"docker-compose.yml has no service `{name}`");

    public static ComposeFile Parse(string yaml)
    {
        var document = new DeserializerBuilder().Build().Deserialize<object>(new MergingParser(new Parser(new StringReader(yaml))));
        var root = document as Dictionary<object, object> ?? throw new InvalidDataException("the compose file is not a mapping");
        var services = Map(root.GetValueOrDefault("services"))
            .ToDictionary(entry => entry.Key, entry => new ComposeService(Map(entry.Value)));
        var volumes = Map(root.GetValueOrDefault("volumes")).Keys.ToHashSet();
        return new ComposeFile(services, volumes);
    }

    internal static Dictionary<string, object?> Map(object? node) =>
        node is Dictionary<object, object> map
            ? map.ToDictionary(entry => entry.Key.ToString()!, entry => (object?)entry.Value)
            : [];

    internal static List<object?> Sequence(object? node) => node is List<object> list ? list.Cast<object?>().ToList() : [];
}

internal sealed class ComposeService(Dictionary<string, object?> node)
{
    /// <summary>Environment variables by name, from either the mapping or the <c>- NAME=value</c> list form.</summary>
    public IReadOnlyDictionary<string, string?> Environment { get; } = node.GetValueOrDefault("environment") switch
    {
        List<object> list => list.Select(item => item.ToString()!.Split('=', 2))
            .ToDictionary(parts => parts[0], parts => parts.Length > 1 ? parts[1] : null),
        var map => ComposeFile.Map(map).ToDictionary(entry => entry.Key, entry => entry.Value?.ToString()),
    };

    /// <summary>The environment as configuration keys (<c>__</c> → <c>:</c>), case-insensitive like <see cref="IConfiguration"/>.</summary>
    public IReadOnlyDictionary<string, string?> Settings => Environment.ToDictionary(
        entry => entry.Key.Replace("__", ":", StringComparison.Ordinal), entry => entry.Value, StringComparer.OrdinalIgnoreCase);

    public string? BuildTarget => ComposeFile.Map(node.GetValueOrDefault("build")).GetValueOrDefault("target")?.ToString();

    public string? Hostname => node.GetValueOrDefault("hostname")?.ToString();

    public IReadOnlyList<string> Command => node.GetValueOrDefault("command") switch
    {
        List<object> list => list.Select(item => item.ToString()!).ToList(),
        string text => text.Split(' ', StringSplitOptions.RemoveEmptyEntries),
        _ => [],
    };

    /// <summary>Each dependency with its condition (<c>service_started</c> for the list form).</summary>
    public IReadOnlyDictionary<string, string> DependsOn => node.GetValueOrDefault("depends_on") switch
    {
        List<object> list => list.ToDictionary(item => item.ToString()!, _ => "service_started"),
        var map => ComposeFile.Map(map).ToDictionary(
            entry => entry.Key,
            entry => ComposeFile.Map(entry.Value).GetValueOrDefault("condition")?.ToString() ?? "service_started"),
    };

    /// <summary>The healthcheck's <c>test</c> as one line (empty when there is none).</summary>
    public string HealthcheckTest => string.Join(' ', HealthcheckCommand);

    /// <summary>The healthcheck's command words, without the leading <c>CMD</c> / <c>CMD-SHELL</c>.</summary>
    public IReadOnlyList<string> HealthcheckCommand => ComposeFile.Map(node.GetValueOrDefault("healthcheck")).GetValueOrDefault("test") switch
    {
        List<object> list => list.Select(item => item.ToString()!).SkipWhile(word => word is "CMD" or "CMD-SHELL")
            .SelectMany(word => word.Split(' ', StringSplitOptions.RemoveEmptyEntries)).ToList(),
        string text => text.Split(' ', StringSplitOptions.RemoveEmptyEntries),
        _ => [],
    };

    public TimeSpan? StopGracePeriod => node.GetValueOrDefault("stop_grace_period")?.ToString() is { } text ? ParseDuration(text) : null;

    /// <summary>Published ports: host port (null when Docker picks one) and container port.</summary>
    public IReadOnlyList<(string? Host, string Container)> Ports => ComposeFile.Sequence(node.GetValueOrDefault("ports"))
        .Select(item => item switch
        {
            Dictionary<object, object> map => (
                ComposeFile.Map(map).GetValueOrDefault("published")?.ToString(),
                ComposeFile.Map(map).GetValueOrDefault("target")?.ToString() ?? ""),
            _ => ParseShortPort(item?.ToString() ?? ""),
        })
        .ToList();

    /// <summary>The sources of <c>volumes:</c> entries (a named volume or a host path).</summary>
    public IReadOnlyList<string> VolumeSources => ComposeFile.Sequence(node.GetValueOrDefault("volumes"))
        .Select(item => item switch
        {
            Dictionary<object, object> map => ComposeFile.Map(map).GetValueOrDefault("source")?.ToString() ?? "",
            _ => (item?.ToString() ?? "").Split(':')[0],
        })
        .ToList();

    private static (string? Host, string Container) ParseShortPort(string text)
    {
        // [IP:]HOST:CONTAINER[/protocol], or CONTAINER alone.
        var parts = text.Split('/')[0].Split(':');
        return parts.Length == 1 ? (null, parts[0]) : (parts[^2], parts[^1]);
    }

    private static TimeSpan? ParseDuration(string text)
    {
        var matches = Regex.Matches(text, @"(?<value>\d+(\.\d+)?)(?<unit>h|ms|m|s|us)");
        if (matches.Count == 0 || string.Concat(matches.Select(m => m.Value)) != text)
        {
            return null;
        }

        return matches.Aggregate(TimeSpan.Zero, (total, match) =>
        {
            var value = double.Parse(match.Groups["value"].Value, System.Globalization.CultureInfo.InvariantCulture);
            return total + match.Groups["unit"].Value switch
            {
                "h" => TimeSpan.FromHours(value),
                "m" => TimeSpan.FromMinutes(value),
                "s" => TimeSpan.FromSeconds(value),
                "ms" => TimeSpan.FromMilliseconds(value),
                _ => TimeSpan.FromMicroseconds(value),
            };
        });
    }
}

/// <summary>The instructions and stages of a Dockerfile (line continuations joined, comments dropped).</summary>
internal sealed class Dockerfile
{
    private Dockerfile(List<(string Keyword, string Arguments)> instructions)
    {
        Instructions = instructions;
        Stages = instructions
            .Select((instruction, index) => (instruction, index))
            .Where(item => item.instruction.Keyword == "FROM")
            .Select(item =>
            {
                var match = Regex.Match(item.instruction.Arguments, @"^(--\S+\s+)*(?<image>\S+)(\s+AS\s+(?<name>\S+))?\s*$", RegexOptions.IgnoreCase);
                return new DockerStage(match.Groups["name"].Success ? match.Groups["name"].Value.ToLowerInvariant() : null,
                    match.Groups["image"].Value, item.index);
            })
            .ToList();
    }

    /// <summary>The instructions without the comments, one per line.</summary>
    public string InstructionText => string.Join('\n', Instructions.Select(i => $"{i.Keyword} {i.Arguments}"));

    public List<(string Keyword, string Arguments)> Instructions { get; }

    public IReadOnlyList<DockerStage> Stages { get; }

    /// <summary>Every source path of a <c>COPY</c>/<c>ADD</c> from the build context (not <c>--from</c> another stage).</summary>
    public IReadOnlyList<string> CopiedFromContext => Instructions
        .Where(i => i.Keyword is "COPY" or "ADD" && !Regex.IsMatch(i.Arguments, @"(^|\s)--from="))
        .SelectMany(i => CopySources(i.Arguments))
        .ToList();

    /// <summary>The instructions of a stage and of the stages it builds on (<c>FROM &lt;stage&gt;</c>), one per line.</summary>
    public string StageText(string name)
    {
        var index = Stages.ToList().FindIndex(s => s.Name == name);
        if (index < 0)
        {
            return "";
        }

        var stage = Stages[index];
        var end = index + 1 < Stages.Count ? Stages[index + 1].FirstInstruction : Instructions.Count;
        var own = string.Join('\n', Instructions.Skip(stage.FirstInstruction).Take(end - stage.FirstInstruction).Select(i => $"{i.Keyword} {i.Arguments}"));
        return Stages.Any(s => s.Name == stage.Image && s != stage) ? StageText(stage.Image) + "\n" + own : own;
    }

    public static IEnumerable<string> CopySources(string arguments)
    {
        var words = arguments.Split(' ', StringSplitOptions.RemoveEmptyEntries).Where(word => !word.StartsWith("--", StringComparison.Ordinal)).ToList();
        return words.Take(words.Count - 1).Select(word => word.StartsWith("./", StringComparison.Ordinal) ? word[2..] : word);
    }

    public static Dockerfile Parse(string text)
    {
        var instructions = new List<(string, string)>();
        var pending = "";
        foreach (var rawLine in text.Split('\n'))
        {
            var line = rawLine.TrimEnd('\r');
            if (line.TrimStart().StartsWith('#') || line.Trim().Length == 0)
            {
                continue; // Comments and blank lines, also inside a continued instruction.
            }

            if (line.EndsWith('\\'))
            {
                pending += line[..^1] + " ";
                continue;
            }

            var instruction = (pending + line).Trim();
            pending = "";
            var space = instruction.IndexOfAny([' ', '\t']);
            instructions.Add(space < 0
                ? (instruction.ToUpperInvariant(), "")
                : (instruction[..space].ToUpperInvariant(), Regex.Replace(instruction[(space + 1)..].Trim(), @"\s+", " ")));
        }

        return new Dockerfile(instructions);
    }
}

internal sealed record DockerStage(string? Name, string Image, int FirstInstruction);
