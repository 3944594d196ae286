using System.Diagnostics;
using Microsoft.Extensions.Configuration;

namespace CustomerData.AppHost;

/// <summary>Which backing services the stack runs: real servers in containers, or local stand-ins.</summary>
public enum StackMode
{
    /// <summary>MariaDB, librdkafka's mock Kafka, the CQL dev server and a lake folder (or s3rver); no container.</summary>
    Local,
    /// <summary>MySQL, Kafka (KRaft), Cassandra and MinIO in containers.</summary>
    Containers,
}

/// <summary>
/// Picks the <see cref="StackMode"/>: <c>Stack:Mode</c> = <c>auto</c> (default), <c>containers</c> or <c>local</c>.
/// Publishing (for example <c>--publisher manifest</c>) always describes the containers stack.
/// </summary>
public static class StackModeSelector
{
    public const string ModeKey = "Stack:Mode";
    private static readonly TimeSpan s_probeTimeout = TimeSpan.FromSeconds(3);

    public static StackMode Select(IDistributedApplicationBuilder builder)
    {
        if (builder.ExecutionContext.IsPublishMode) return StackMode.Containers;
        var configured = builder.Configuration[ModeKey]?.Trim().ToLowerInvariant();
        return configured switch
        {
            null or "" or "auto" => ContainerRuntimeAnswers(builder.Configuration) ? StackMode.Containers : StackMode.Local,
            "containers" => StackMode.Containers,
            "local" => StackMode.Local,
            _ => throw new InvalidOperationException($"{ModeKey} must be auto, containers or local, not '{configured}'."),
        };
    }

    /// <summary>
    /// True when Docker or Podman (or the one named by ASPIRE_CONTAINER_RUNTIME) answers <c>info</c>
    /// within a few seconds. An installed CLI whose daemon is down does not count: DCP would wait for it.
    /// </summary>
    public static bool ContainerRuntimeAnswers(IConfiguration configuration)
    {
        var preferred = configuration["ASPIRE_CONTAINER_RUNTIME"];
        string[] runtimes = string.IsNullOrWhiteSpace(preferred) ? ["docker", "podman"] : [preferred];
        return runtimes.Any(AnswersInfo);
    }

    private static bool AnswersInfo(string runtime)
    {
        var executable = FindOnPath(runtime);
        if (executable is null) return false;
        try
        {
            var psi = new ProcessStartInfo(executable, "info")
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            using var process = Process.Start(psi);
            if (process is null) return false;
            _ = process.StandardOutput.ReadToEndAsync();
            _ = process.StandardError.ReadToEndAsync();
            if (!process.WaitForExit(s_probeTimeout))
            {
                process.Kill(entireProcessTree: true);
                return false;
            }
            return process.ExitCode == 0;
        }
        catch (Exception ex) when (ex is System.ComponentModel.Win32Exception or InvalidOperationException)
        {
            return false;
        }
    }

    private static string? FindOnPath(string name)
    {
        if (Path.IsPathRooted(name)) return File.Exists(name) ? name : null;
        return (Environment.GetEnvironmentVariable("PATH") ?? "")
            .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Select(dir => Path.Combine(dir, name))
            .FirstOrDefault(File.Exists);
    }
}
