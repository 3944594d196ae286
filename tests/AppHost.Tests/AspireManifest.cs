using System.Diagnostics;
using System.Reflection;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace CustomerData.AppHost.Tests;

/// <summary>
/// The AppHost's deployment manifest, made by the README's publish command
/// (<c>dotnet run --project AppHost -- --publisher manifest --output-path …</c>) once per test run.
/// </summary>
internal static partial class AspireManifest
{
    private static readonly Lazy<Task<JsonObject>> s_resources = new(() => PublishAsync(CancellationToken.None));

    /// <summary>The manifest's <c>resources</c> (read only: every test shares one copy).</summary>
    public static Task<JsonObject> ResourcesAsync() => s_resources.Value;

    /// <summary>A reference to another resource inside a manifest value: <c>{name.property…}</c>.</summary>
    [GeneratedRegex(@"\{(?<resource>[a-z0-9-]+)\.(?<property>[A-Za-z0-9.]+)\}")]
    public static partial Regex Placeholder();

    /// <summary>The environment the manifest gives each project resource (service projects and the migrations job).</summary>
    public static Dictionary<string, Dictionary<string, string>> ProjectEnvironments(JsonObject resources) =>
        resources.Where(r => (string?)r.Value!["type"] == "project.v0")
            .ToDictionary(
                r => r.Key,
                r => (r.Value!["env"]?.AsObject() ?? []).ToDictionary(e => e.Key, e => (string?)e.Value ?? ""));

    /// <summary>
    /// Whether a manifest value carries a secret: it references a secret parameter, or the connection string of a
    /// resource whose connection string does.
    /// </summary>
    public static bool IsSecret(JsonObject resources, string value, int depth = 0)
    {
        if (depth > 8) return false;
        foreach (Match match in Placeholder().Matches(value))
        {
            var resource = resources[match.Groups["resource"].Value];
            if (resource is null) continue;
            if ((string?)resource["type"] == "parameter.v0" && (bool?)resource["inputs"]?["value"]?["secret"] == true) return true;
            if (match.Groups["property"].Value == "connectionString" && (string?)resource["connectionString"] is { } inner
                && IsSecret(resources, inner, depth + 1)) return true;
        }
        return false;
    }

    private static async Task<JsonObject> PublishAsync(CancellationToken cancellationToken)
    {
        var appHostProject = Projects.AppHost.ProjectPath;
        var configuration = typeof(AspireManifest).Assembly.GetCustomAttribute<AssemblyConfigurationAttribute>()?.Configuration ?? "Debug";
        var output = Path.Combine(Path.GetTempPath(), $"cdp-manifest-{Guid.NewGuid():N}", "aspire-manifest.json");
        var psi = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in new[] { "run", "--project", appHostProject, "--no-build", "--configuration", configuration,
                     "--", "--publisher", "manifest", "--output-path", output })
        {
            psi.ArgumentList.Add(arg);
        }
        // Publishing must describe the containers stack whatever the configured mode.
        psi.Environment["Stack__Mode"] = "local";
        using var process = Process.Start(psi)!;
        var stdout = process.StandardOutput.ReadToEndAsync(cancellationToken);
        var stderr = process.StandardError.ReadToEndAsync(cancellationToken);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromMinutes(2));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException("Publishing the manifest took longer than 2 minutes.");
        }
        Assert.True(process.ExitCode == 0, $"The publish command failed ({process.ExitCode}):\n{await stdout}\n{await stderr}");
        try
        {
            var manifest = JsonNode.Parse(await File.ReadAllTextAsync(output, cancellationToken))!;
            return manifest["resources"]!.AsObject();
        }
        finally
        {
            Directory.Delete(Path.GetDirectoryName(output)!, recursive: true);
        }
    }
}
