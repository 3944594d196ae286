namespace CustomerData.Pipelines.Profile;

/// <summary>
/// The pipeline's own switches: <c>--once</c>, <c>--rebuild</c>, <c>--interval &lt;seconds|hh:mm:ss&gt;</c>.
/// Everything else goes to the host's configuration (for example <c>--Profile:Consistency=ONE</c>).
/// </summary>
public sealed record ProfileCommandLine(RunMode Mode, TimeSpan? Interval, string[] HostArgs, string? Error)
{
    public const string Usage =
        "Usage: Pipelines.Profile [--once | --rebuild | --interval <seconds|hh:mm:ss>] [--Profile:Key=value ...]\n" +
        "  (no switch)  continuous: a cycle every Profile:Interval, web host with /health and /alive\n" +
        "  --once       one incremental cycle; exit code 0 when it succeeded, 1 when not\n" +
        "  --rebuild    recompute every customer's profile, with progress; exit code as --once\n" +
        "  --interval   continuous mode with this pause between cycles";

    public static ProfileCommandLine Parse(string[] args)
    {
        try
        {
            var parsed = PipelineCommandLine.Parse(args, allowFrom: false, intervalContinuousOnly: true);
            // --help: no error text, the usage and exit code 0.
            return parsed.HelpAsked ? Fail("") : new ProfileCommandLine(parsed.Mode, parsed.Interval, parsed.HostArgs, null);
        }
        catch (ArgumentException ex)
        {
            return Fail(ex.Message);
        }

        static ProfileCommandLine Fail(string message) => new(RunMode.Continuous, null, [], message);
    }
}
