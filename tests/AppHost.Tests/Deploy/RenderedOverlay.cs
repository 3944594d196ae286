using System.Diagnostics;
using k8s;
using k8s.Models;

namespace CustomerData.AppHost.Tests.Deploy;

/// <summary>
/// One kustomization of <c>deploy/</c> rendered by <c>kubectl kustomize</c> and read strictly into the typed
/// Kubernetes objects of KubernetesClient (a field the API does not know fails the read).
/// </summary>
internal sealed class RenderedOverlay
{
    private RenderedOverlay(string name, IReadOnlyList<object> objects)
    {
        Name = name;
        Objects = objects;
    }

    public string Name { get; }
    public IReadOnlyList<object> Objects { get; }

    public IEnumerable<V1Deployment> Deployments => Objects.OfType<V1Deployment>();
    public IEnumerable<V1Job> Jobs => Objects.OfType<V1Job>();
    public IEnumerable<V1ConfigMap> ConfigMaps => Objects.OfType<V1ConfigMap>();

    /// <summary>Every workload by name (Deployments and Jobs): its pod spec.</summary>
    public Dictionary<string, V1PodSpec> Workloads =>
        Deployments.Select(d => (d.Metadata.Name, d.Spec.Template.Spec))
            .Concat(Jobs.Select(j => (j.Metadata.Name, j.Spec.Template.Spec)))
            .ToDictionary(w => w.Name, w => w.Spec);

    public T Single<T>(string name) where T : IKubernetesObject<V1ObjectMeta> =>
        Objects.OfType<T>().Single(o => o.Metadata.Name == name);

    /// <summary>The configuration keys a container gets: its env names and the keys of the ConfigMaps it takes whole.</summary>
    public IReadOnlyDictionary<string, string> KeySources(V1Container container)
    {
        var sources = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var from in container.EnvFrom ?? [])
        {
            // A Secret taken whole would hide its keys from review and from this check: secrets come key by key.
            Assert.True(from.SecretRef is null, $"{container.Name} takes Secret {from.SecretRef?.Name} whole (envFrom); name each key (env.valueFrom.secretKeyRef)");
            var configMap = ConfigMaps.SingleOrDefault(c => c.Metadata.Name == from.ConfigMapRef.Name);
            Assert.True(configMap is not null, $"{container.Name} takes ConfigMap {from.ConfigMapRef.Name}, which {Name} does not hold");
            foreach (var key in configMap.Data?.Keys ?? []) sources[(from.Prefix ?? "") + key] = "configMap " + from.ConfigMapRef.Name;
        }
        foreach (var env in container.Env ?? [])
        {
            sources[env.Name] = env.ValueFrom?.SecretKeyRef is { } secret ? $"secret {secret.Name}/{secret.Key}"
                : env.ValueFrom?.ConfigMapKeyRef is { } map ? $"configMap {map.Name}/{map.Key}"
                : "value";
        }
        return sources;
    }

    /// <summary>The value a container gets for a key from a literal env value or a rendered ConfigMap; null from a Secret or nowhere.</summary>
    public string? PlainValue(V1Container container, string key)
    {
        if (container.Env?.FirstOrDefault(e => e.Name == key) is { } env) return env.ValueFrom is null ? env.Value : null;
        foreach (var from in container.EnvFrom ?? [])
        {
            var configMap = ConfigMaps.SingleOrDefault(c => c.Metadata.Name == from.ConfigMapRef?.Name);
            if (configMap?.Data?.TryGetValue(key, out var value) == true) return value;
        }
        return null;
    }

    /// <summary>Renders <c>deploy/{path}</c> (e.g. <c>base</c>, <c>overlays/dev</c>) with kubectl.</summary>
    public static async Task<RenderedOverlay> RenderAsync(string path)
    {
        var kubectl = DeployTools.Kubectl();
        var folder = Path.Combine(DeployTools.RepositoryRoot(), "deploy", path);
        var psi = new ProcessStartInfo(kubectl, ["kustomize", folder])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        using var process = Process.Start(psi)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(1));
        await process.WaitForExitAsync(timeout.Token);
        Assert.True(process.ExitCode == 0, $"kubectl kustomize {folder} failed ({process.ExitCode}): {await stderr}");
        var yaml = await stdout;
        var objects = KubernetesYaml.LoadAllFromString(yaml, strict: true);
        Assert.NotEmpty(objects);
        return new RenderedOverlay(path, objects);
    }
}
