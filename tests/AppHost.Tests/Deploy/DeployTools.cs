using System.Diagnostics;

namespace CustomerData.AppHost.Tests.Deploy;

/// <summary>
/// Finds the tools the deployment tests need: Debian's kubectl (the Debian package <c>kubectl</c>) and the npm
/// package kubernetes-models (the Kubernetes API's schema, offline); tests/run.sh installs both when missing.
/// Outside CI a missing tool skips the test with the reason; under CI (CI=true) it fails it.
/// </summary>
internal static class DeployTools
{
    public const string SchemaPackage = "kubernetes-models";
    public const string SchemaPackageVersion = "5.1.0";

    public static string Kubectl()
    {
        var found = new[] { "/usr/bin/kubectl", "/usr/local/bin/kubectl" }.FirstOrDefault(File.Exists)
            ?? OnPath("kubectl");
        return found ?? Missing("kubectl is not installed (Debian package kubectl; tests/run.sh installs it)");
    }

    public static string Node() =>
        OnPath("node") ?? Missing("node is not installed (Debian package nodejs; tests/run.sh installs it)");

    /// <summary>The folder of the globally installed kubernetes-models package.</summary>
    public static string SchemaPackageFolder()
    {
        var npm = OnPath("npm") ?? Missing($"npm is not installed, so {SchemaPackage} cannot be found (tests/run.sh installs both)");
        var psi = new ProcessStartInfo(npm, ["root", "-g"]) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        using var process = Process.Start(psi)!;
        var root = process.StandardOutput.ReadToEnd().Trim();
        process.WaitForExit();
        var folder = Path.Combine(root, SchemaPackage);
        return File.Exists(Path.Combine(folder, "package.json"))
            ? folder
            : Missing($"the npm package {SchemaPackage} (the Kubernetes API schema) is not installed in {root}: `npm install -g {SchemaPackage}@{SchemaPackageVersion}` (tests/run.sh does)");
    }

    public static string RepositoryRoot()
    {
        var folder = new DirectoryInfo(AppContext.BaseDirectory);
        while (folder is not null && !File.Exists(Path.Combine(folder.FullName, "aspire.sln"))) folder = folder.Parent;
        return folder?.FullName ?? throw new InvalidOperationException("aspire.sln not found above the test binaries.");
    }

    private static string? OnPath(string name) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Select(dir => Path.Combine(dir, name))
            .FirstOrDefault(File.Exists);

    private static string Missing(string reason)
    {
        if (string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase))
        {
            Assert.Fail("CI must run the deployment checks, but " + reason);
        }
        Assert.Skip("Skipped: " + reason);
        return "";
    }
}
