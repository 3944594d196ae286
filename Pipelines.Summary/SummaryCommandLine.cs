namespace CustomerData.Pipelines.Summary;

/// <summary>
/// <c>[--once | --rebuild [--from YYYY-MM-DD]] [--interval SECONDS|hh:mm:ss]</c>; other arguments go to the host
/// (for example <c>--Lake:Root=/data/lake</c>). Parsed by the shared <see cref="PipelineCommandLine"/>.
/// </summary>
public sealed record SummaryCommandLine(RunMode Mode, TimeSpan? Interval, DateOnly? From, string[] HostArgs)
{
    public const string Usage = "usage: Pipelines.Summary [--once | --rebuild [--from YYYY-MM-DD]] [--interval SECONDS] [--Section:Key=value ...]";

    /// <exception cref="ArgumentException">Wrong switches (also <c>--help</c>, which only prints the usage).</exception>
    public static SummaryCommandLine Parse(IReadOnlyList<string> args)
    {
        var parsed = PipelineCommandLine.Parse(args, allowFrom: true, intervalContinuousOnly: false);
        if (parsed.HelpAsked) throw new ArgumentException("");
        return new SummaryCommandLine(parsed.Mode, parsed.Interval, parsed.From, parsed.HostArgs);
    }
}
