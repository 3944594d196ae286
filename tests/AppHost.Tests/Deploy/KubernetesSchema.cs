using System.Diagnostics;
using k8s;

namespace CustomerData.AppHost.Tests.Deploy;

/// <summary>
/// Checks objects against the Kubernetes API's OpenAPI schema (required fields, types, formats) with the validators
/// the npm package kubernetes-models carries, offline (kubectl validates only against a server).
/// </summary>
internal static class KubernetesSchema
{
    /// <summary>One line per object: <c>ok Kind/name</c> or <c>invalid Kind/name: errors</c>; and whether all passed.</summary>
    public static async Task<(bool AllValid, string[] Lines)> ValidateAsync(IEnumerable<object> objects)
    {
        var node = DeployTools.Node();
        var package = DeployTools.SchemaPackageFolder();
        var script = Path.Combine(AppContext.BaseDirectory, "Deploy", "validate-objects.mjs");
        var json = "[" + string.Join(",", objects.Select(o => KubernetesJson.Serialize(o))) + "]";
        var psi = new ProcessStartInfo(node, [script, package])
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        using var process = Process.Start(psi)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.StandardInput.WriteAsync(json);
        process.StandardInput.Close();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(1));
        await process.WaitForExitAsync(timeout.Token);
        var lines = (await stdout).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.True(process.ExitCode is 0 or 1, $"The schema validator failed to run ({process.ExitCode}): {await stderr}");
        return (process.ExitCode == 0, lines);
    }
}
