namespace CustomerData.Pipelines.Summary.Tests;

/// <summary>The shared command line (System.CommandLine) of both pipelines: modes, and every other token kept for the host in order.</summary>
public sealed class PipelineCommandLineTests
{
    [Fact]
    public void Host_arguments_pass_through_in_order_around_the_pipeline_switches()
    {
        var parsed = PipelineCommandLine.Parse(["--Lake:Root=/x", "--rebuild", "--urls", "http://127.0.0.1:1", "--from", "2025-01-31", "--Summary:Compression=Zstd"],
            allowFrom: true, intervalContinuousOnly: false);

        Assert.Equal(RunMode.Rebuild, parsed.Mode);
        Assert.Equal(new DateOnly(2025, 1, 31), parsed.From);
        Assert.Equal(["--Lake:Root=/x", "--urls", "http://127.0.0.1:1", "--Summary:Compression=Zstd"], parsed.HostArgs);
    }

    [Fact]
    public void Pipeline_a_has_no_from_and_takes_an_interval_only_when_continuous()
    {
        Assert.Equal(["--from", "2025-01-31"], PipelineCommandLine.Parse(["--from", "2025-01-31"], allowFrom: false, intervalContinuousOnly: true).HostArgs);
        Assert.Throws<ArgumentException>(() => PipelineCommandLine.Parse(["--once", "--interval", "5"], allowFrom: false, intervalContinuousOnly: true));
        Assert.True(PipelineCommandLine.Parse(["-h"], allowFrom: false, intervalContinuousOnly: true).HelpAsked);
    }
}
