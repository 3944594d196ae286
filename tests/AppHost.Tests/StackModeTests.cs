using Aspire.Hosting;
using Microsoft.Extensions.Configuration;

namespace CustomerData.AppHost.Tests;

/// <summary>How the AppHost chooses between containers and local mode.</summary>
public sealed class StackModeTests
{
    [Theory]
    [InlineData(0, StackMode.Containers)]
    [InlineData(1, StackMode.Local)] // the CLI exists but its daemon does not answer (this machine's docker)
    public void Auto_mode_asks_the_container_runtime(int infoExitCode, StackMode expected)
    {
        var runtime = FakeRuntime($"exit {infoExitCode}");
        try
        {
            var builder = DistributedApplication.CreateBuilder(["Stack:Mode=auto", $"ASPIRE_CONTAINER_RUNTIME={runtime}"]);
            Assert.Equal(expected, StackModeSelector.Select(builder));
        }
        finally
        {
            File.Delete(runtime);
        }
    }

    [Fact]
    public void A_runtime_that_hangs_counts_as_absent_within_seconds()
    {
        var runtime = FakeRuntime("sleep 30");
        try
        {
            var clock = System.Diagnostics.Stopwatch.StartNew();
            Assert.False(StackModeSelector.ContainerRuntimeAnswers(
                new ConfigurationBuilder()
                    .AddInMemoryCollection(new Dictionary<string, string?> { ["ASPIRE_CONTAINER_RUNTIME"] = runtime })
                    .Build()));
            // The probe gives up after 3 s; the bound leaves a slow machine room and is still well under the 30 s hang.
            Assert.InRange(clock.Elapsed, TimeSpan.Zero, TimeSpan.FromSeconds(20));
        }
        finally
        {
            File.Delete(runtime);
        }
    }

    [Theory]
    [InlineData("local", StackMode.Local)]
    [InlineData("containers", StackMode.Containers)]
    [InlineData("LOCAL", StackMode.Local)]
    public void An_explicit_mode_wins(string configured, StackMode expected)
    {
        var builder = DistributedApplication.CreateBuilder([$"Stack:Mode={configured}"]);
        Assert.Equal(expected, StackModeSelector.Select(builder));
    }

    [Fact]
    public void An_unknown_mode_is_refused_with_the_allowed_values()
    {
        var builder = DistributedApplication.CreateBuilder(["Stack:Mode=kubernetes"]);
        var error = Assert.Throws<InvalidOperationException>(() => StackModeSelector.Select(builder));
        Assert.Contains("auto, containers or local", error.Message);
    }

    private static string FakeRuntime(string body)
    {
        var path = Path.Combine(Path.GetTempPath(), $"fake-runtime-{Guid.NewGuid():N}");
        File.WriteAllText(path, $"#!/bin/sh\n{body}\n");
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
        return path;
    }
}
