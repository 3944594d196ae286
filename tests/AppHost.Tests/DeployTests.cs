using System.Text.Json.Nodes;
using CustomerData.AppHost.Tests.Deploy;
using k8s.Models;

namespace CustomerData.AppHost.Tests;

/// <summary>
/// The Kubernetes manifests under <c>deploy/</c> (kustomize: a base and the dev and production overlays), rendered by
/// <c>kubectl kustomize</c> and checked offline: against the Kubernetes API schema, against the configuration the
/// AppHost's manifest gives each project, and for the platform's rules (non-root, probes, single writers, the Api's
/// autoscaling).
/// </summary>
public sealed class DeployTests
{
    public static readonly TheoryData<string> Overlays = new("overlays/dev", "overlays/production");
    public static readonly TheoryData<string> Kustomizations = new("base", "overlays/dev", "overlays/production");

    private static readonly string[] s_services = ["producer", "pipelines-profile", "pipelines-summary", "pipelines-events", "api"];
    // Each project's options section (ProducerOptions.Section, ProfileOptions.SectionName, ...): a deployment may set any of it.
    private static readonly Dictionary<string, string> s_ownSection = new()
    {
        ["migrations"] = "Migrations", ["producer"] = "Producer", ["pipelines-profile"] = "Profile",
        ["pipelines-summary"] = "Summary", ["pipelines-events"] = "Events", ["api"] = "Api",
    };
    // The one-shot schema migration: a Job here, a project resource the services WaitForCompletion on in the AppHost.
    private const string Migrations = "migrations";

    [Theory]
    [MemberData(nameof(Kustomizations))]
    public async Task Each_kustomization_renders_to_objects_that_match_the_Kubernetes_API_schema(string kustomization)
    {
        // The strict typed read in RenderAsync refuses a field the API does not know; the schema check finds
        // missing required fields, wrong types and formats.
        var rendered = await RenderedOverlay.RenderAsync(kustomization);
        var (allValid, lines) = await KubernetesSchema.ValidateAsync(rendered.Objects);
        Assert.True(allValid, $"{kustomization}:\n" + string.Join('\n', lines.Where(l => !l.StartsWith("ok ", StringComparison.Ordinal))));
        Assert.Equal(rendered.Objects.Count, lines.Count(l => l.StartsWith("ok ", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task The_schema_check_refuses_an_object_the_API_would_refuse()
    {
        var deployment = new V1Deployment
        {
            ApiVersion = "apps/v1",
            Kind = "Deployment",
            Metadata = new V1ObjectMeta { Name = "broken" },
            // No selector (required); a container without its required name.
            Spec = new V1DeploymentSpec { Template = new V1PodTemplateSpec { Spec = new V1PodSpec { Containers = [new V1Container { Image = "x" }] } } },
        };
        var (allValid, lines) = await KubernetesSchema.ValidateAsync([deployment]);
        Assert.False(allValid);
        Assert.Contains("selector", lines.Single(), StringComparison.Ordinal);
        Assert.Contains("name", lines.Single(), StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(Overlays))]
    public async Task Each_service_gets_every_configuration_key_the_AppHost_gives_it_and_no_connection_it_does_not_use(string overlay)
    {
        var resources = await AspireManifest.ResourcesAsync();
        var fromAppHost = AspireManifest.ProjectEnvironments(resources);
        var rendered = await RenderedOverlay.RenderAsync(overlay);
        var workloads = rendered.Workloads;

        // One workload per project resource of the AppHost, and nothing else.
        var expectedWorkloads = fromAppHost.Keys.ToHashSet();
        Assert.True(expectedWorkloads.SetEquals(workloads.Keys), $"{overlay} runs {string.Join(", ", workloads.Keys.Order())}; the AppHost has {string.Join(", ", expectedWorkloads.Order())}");
        Assert.Superset(s_services.Append(Migrations).ToHashSet(), fromAppHost.Keys.ToHashSet());

        var problems = new List<string>();
        foreach (var (name, appHostEnv) in fromAppHost)
        {
            var container = workloads[name].Containers.Single();
            var sources = rendered.KeySources(container);
            foreach (var key in appHostEnv.Keys.Where(k => !sources.ContainsKey(k) && !IsPolyglotEndpointVariable(k, appHostEnv[k])))
            {
                problems.Add($"{name} lacks {key} (the AppHost gives it {appHostEnv[key]})");
            }
            // Keys the AppHost does not give: telemetry and the environment name, the service's own settings
            // section, more settings of a section it already gets, and the Api's token validation (appsettings.json
            // under the AppHost).
            var sections = appHostEnv.Keys.Select(Section).Append(s_ownSection[name]).ToHashSet();
            foreach (var key in sources.Keys.Where(k => !appHostEnv.ContainsKey(k)))
            {
                var allowed = key.StartsWith("OTEL_", StringComparison.Ordinal) || key == "DOTNET_ENVIRONMENT"
                    || sections.Contains(Section(key))
                    // librdkafka settings of the one connection (SASL/TLS for a managed cluster: docs/deploy.md).
                    || (key.StartsWith("Kafka__kafka__Config__", StringComparison.Ordinal) && appHostEnv.ContainsKey("ConnectionStrings__kafka"))
                    || (name == "api" && key.StartsWith("Authentication__Schemes__Bearer__", StringComparison.Ordinal));
                if (!allowed) problems.Add($"{name} gets {key} from {sources[key]}, which the AppHost does not give it");
            }
            Assert.Equal(name, rendered.PlainValue(container, "OTEL_SERVICE_NAME"));
            Assert.False(string.IsNullOrWhiteSpace(rendered.PlainValue(container, "OTEL_EXPORTER_OTLP_ENDPOINT")), $"{name} exports telemetry");
        }
        Assert.True(problems.Count == 0, $"{overlay}:\n" + string.Join('\n', problems));

        // The Api validates tokens of the identity provider (production) or of dotnet user-jwts (dev).
        var api = workloads["api"].Containers.Single();
        Assert.Equal("customer-data-api", rendered.PlainValue(api, "Authentication__Schemes__Bearer__ValidAudiences__0"));
        var keys = rendered.KeySources(api).Keys;
        Assert.True(!string.IsNullOrEmpty(rendered.PlainValue(api, "Authentication__Schemes__Bearer__Authority")) || keys.Contains("Authentication__Schemes__Bearer__SigningKeys__0__Value"),
            $"{overlay}: the Api has an authority or a signing key");

        // The migrations Job: the schema of both stores (the AppHost gives it both), and no Kafka or lake.
        var migrationSources = rendered.KeySources(workloads[Migrations].Containers.Single());
        Assert.Contains("ConnectionStrings__customerdb", migrationSources.Keys);
        Assert.Contains("ConnectionStrings__cassandra", migrationSources.Keys);
        Assert.DoesNotContain(migrationSources.Keys, k => k == "ConnectionStrings__kafka" || k.StartsWith("Lake__", StringComparison.Ordinal));
    }

    [Theory]
    [MemberData(nameof(Kustomizations))]
    public async Task Secrets_reach_the_services_only_as_Secret_references_and_no_Secret_is_committed(string kustomization)
    {
        var resources = await AspireManifest.ResourcesAsync();
        var rendered = await RenderedOverlay.RenderAsync(kustomization);
        Assert.Empty(rendered.Objects.OfType<V1Secret>());

        // Which keys are secret comes from the AppHost: those whose value carries a secret parameter.
        var secretKeys = AspireManifest.ProjectEnvironments(resources)
            .SelectMany(p => p.Value.Where(e => AspireManifest.IsSecret(resources, e.Value)).Select(e => e.Key))
            .ToHashSet();
        Assert.Superset(new HashSet<string> { "ConnectionStrings__customerdb", "ConnectionStrings__cassandra", "Lake__AccessKey", "Lake__SecretKey" }, secretKeys);

        foreach (var configMap in rendered.ConfigMaps)
        {
            Assert.Empty((configMap.Data?.Keys ?? []).Intersect(secretKeys));
        }
        foreach (var (name, pod) in rendered.Workloads)
        {
            foreach (var env in pod.Containers.SelectMany(c => c.Env ?? []).Where(e => secretKeys.Contains(e.Name)))
            {
                Assert.True(env.ValueFrom?.SecretKeyRef is not null, $"{name}: {env.Name} comes from a Secret");
            }
        }
    }

    [Theory]
    [MemberData(nameof(Kustomizations))]
    public async Task Every_workload_runs_as_non_root_on_a_read_only_filesystem_with_probes_and_resources(string kustomization)
    {
        var rendered = await RenderedOverlay.RenderAsync(kustomization);
        foreach (var (name, pod) in rendered.Workloads)
        {
            Assert.True(pod.SecurityContext?.RunAsNonRoot == true, $"{name} runs as non-root");
            Assert.True(pod.SecurityContext.RunAsUser is > 0, $"{name} names a non-root user id");
            Assert.False(pod.AutomountServiceAccountToken ?? true, $"{name} mounts no service-account token");
            foreach (var container in pod.Containers)
            {
                var security = container.SecurityContext;
                Assert.True(security?.ReadOnlyRootFilesystem == true, $"{name}: read-only root filesystem");
                Assert.True(security.AllowPrivilegeEscalation == false, $"{name}: no privilege escalation");
                Assert.Equal(["ALL"], security.Capabilities?.Drop ?? []);
                Assert.Null(security.Capabilities?.Add);
                Assert.True(container.Resources?.Requests?.ContainsKey("cpu") == true && container.Resources.Requests.ContainsKey("memory"), $"{name}: cpu and memory requests");
                Assert.True(container.Resources.Limits?.ContainsKey("memory") == true, $"{name}: a memory limit");
                // The one writable place is a bounded emptyDir.
                var tmp = Assert.Single(container.VolumeMounts ?? []);
                Assert.Equal("/tmp", tmp.MountPath);
                Assert.NotNull(pod.Volumes.Single(v => v.Name == tmp.Name).EmptyDir?.SizeLimit);
            }
        }
        foreach (var deployment in rendered.Deployments)
        {
            var name = deployment.Metadata.Name;
            var container = deployment.Spec.Template.Spec.Containers.Single();
            Assert.Equal("/health", container.ReadinessProbe?.HttpGet?.Path);
            Assert.Equal("/alive", container.LivenessProbe?.HttpGet?.Path);
            Assert.Equal("/alive", container.StartupProbe?.HttpGet?.Path);
            var port = Assert.Single(container.Ports);
            Assert.Equal(port.Name, container.ReadinessProbe!.HttpGet!.Port.Value);
            Assert.Equal(port.Name, container.LivenessProbe!.HttpGet!.Port.Value);
            // The port the probes call is the one the service listens on.
            Assert.Equal(port.ContainerPort.ToString(System.Globalization.CultureInfo.InvariantCulture), rendered.PlainValue(container, "HTTP_PORTS"));
            Assert.Equal(deployment.Spec.Selector.MatchLabels, deployment.Spec.Template.Metadata.Labels.Where(l => deployment.Spec.Selector.MatchLabels.ContainsKey(l.Key)).ToDictionary());
            Assert.Equal(name, deployment.Spec.Template.Metadata.Labels["app.kubernetes.io/name"]);
        }
        var job = rendered.Single<V1Job>(Migrations);
        Assert.NotNull(job.Spec.BackoffLimit);
        Assert.NotNull(job.Spec.ActiveDeadlineSeconds);
    }

    [Theory]
    [MemberData(nameof(Overlays))]
    public async Task Pipelines_A_and_B_are_single_writers_Pipeline_C_is_one_consumer_group_and_the_api_scales_behind_its_autoscaler(string overlay)
    {
        var rendered = await RenderedOverlay.RenderAsync(overlay);
        foreach (var writer in new[] { "pipelines-profile", "pipelines-summary" })
        {
            var deployment = rendered.Single<V1Deployment>(writer);
            Assert.Equal(1, deployment.Spec.Replicas);
            Assert.Equal("Recreate", deployment.Spec.Strategy?.Type);
        }

        var events = rendered.Single<V1Deployment>("pipelines-events");
        Assert.True(events.Spec.Replicas >= 1);
        // Every replica reads the group id from one ConfigMap: the same group, whatever the replica count.
        var eventsContainer = events.Spec.Template.Spec.Containers.Single();
        Assert.False(string.IsNullOrWhiteSpace(rendered.PlainValue(eventsContainer, "Events__GroupId")));
        Assert.DoesNotContain(eventsContainer.Env ?? [], e => e.Name == "Events__GroupId" && e.ValueFrom?.FieldRef is not null);
        if (overlay.EndsWith("production", StringComparison.Ordinal)) Assert.True(events.Spec.Replicas > 1, "production runs several consumer-group members");

        var api = rendered.Single<V1Deployment>("api");
        Assert.Null(api.Spec.Replicas); // the autoscaler owns the count: an apply does not reset it
        var autoscaler = rendered.Single<V2HorizontalPodAutoscaler>("api");
        Assert.Equal(("Deployment", "api"), (autoscaler.Spec.ScaleTargetRef.Kind, autoscaler.Spec.ScaleTargetRef.Name));
        Assert.True(autoscaler.Spec.MinReplicas >= 1 && autoscaler.Spec.MaxReplicas > autoscaler.Spec.MinReplicas);
        var podLabels = api.Spec.Template.Metadata.Labels;
        var budget = rendered.Single<V1PodDisruptionBudget>("api");
        Assert.All(budget.Spec.Selector.MatchLabels, l => Assert.Equal(l.Value, podLabels[l.Key]));
        // A budget that allows no disruption at the autoscaler's minimum would block every node drain.
        if (budget.Spec.MinAvailable is { } minAvailable) Assert.True(minAvailable.ToInt() < autoscaler.Spec.MinReplicas, $"{overlay}: the budget lets one api pod go at the minimum replica count");
        var service = rendered.Single<V1Service>("api");
        Assert.All(service.Spec.Selector, l => Assert.Equal(l.Value, podLabels[l.Key]));
        Assert.Equal(api.Spec.Template.Spec.Containers.Single().Ports.Single().Name, service.Spec.Ports.Single().TargetPort.Value);
    }

    /// <summary>
    /// Aspire's <c>PIPELINES_PROFILE_HTTP={pipelines-profile.bindings.http.url}</c> beside <c>services__…</c>: for
    /// services in other languages; .NET's service discovery reads <c>services__…</c>, so a deployment need not give it.
    /// </summary>
    private static bool IsPolyglotEndpointVariable(string key, string value)
    {
        var match = System.Text.RegularExpressions.Regex.Match(value, @"^\{(?<resource>[a-z0-9-]+)\.bindings\.(?<endpoint>[a-z0-9-]+)\.url\}$");
        return match.Success
            && key == (match.Groups["resource"].Value + "_" + match.Groups["endpoint"].Value).Replace('-', '_').ToUpperInvariant();
    }

    /// <summary>The configuration section of an environment key; a connection string is a section of its own.</summary>
    private static string Section(string key)
    {
        var parts = key.Split("__");
        return parts[0] == "ConnectionStrings" && parts.Length > 1 ? parts[0] + "__" + parts[1] : parts[0];
    }
}
