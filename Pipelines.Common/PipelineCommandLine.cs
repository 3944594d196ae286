using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;

namespace CustomerData.Pipelines;

/// <summary>How a pipeline process runs: cycles until stopped, one cycle, or one rebuild.</summary>
public enum RunMode
{
    Continuous,
    Once,
    Rebuild,
}

/// <summary>
/// The switches both pipelines take, parsed once with System.CommandLine (as the Producer's):
/// <c>[--once | --rebuild [--from YYYY-MM-DD]] [--interval SECONDS|hh:mm:ss]</c>. Every other token goes to the host's
/// configuration (<c>--Lake:Root=/data/lake</c>, <c>--Profile:Consistency=ONE</c>).
/// </summary>
public sealed record PipelineCommandLine(RunMode Mode, TimeSpan? Interval, DateOnly? From, string[] HostArgs, bool HelpAsked)
{
    /// <param name="allowFrom">Whether <c>--rebuild --from</c> exists for this pipeline (B rebuilds from a day; A has no days).</param>
    /// <param name="intervalContinuousOnly">Refuse <c>--interval</c> with <c>--once</c>/<c>--rebuild</c>.</param>
    /// <exception cref="ArgumentException">The switches are wrong; the message says how.</exception>
    public static PipelineCommandLine Parse(IReadOnlyList<string> args, bool allowFrom, bool intervalContinuousOnly)
    {
        var once = new Option<bool>("--once") { Description = "one incremental cycle, then exit (0 = success, 1 = failed)" };
        var rebuild = new Option<bool>("--rebuild") { Description = "recompute everything, then exit (0 = success, 1 = failed)" };
        var interval = new Option<TimeSpan?>("--interval") { Description = "pause between continuous cycles: seconds or hh:mm:ss", CustomParser = ParseInterval };
        var from = new Option<DateOnly?>("--from") { Description = "with --rebuild: recompute that UTC day (yyyy-MM-dd) and later only", CustomParser = ParseDay };
        var help = new Option<bool>("--help", "-h") { Description = "show the usage" };
        // No built-in help or version action: the pipelines print their own usage, and the host keeps every other token.
        var root = new RootCommand("pipeline");
        root.Options.Clear();
        root.Options.Add(once);
        root.Options.Add(rebuild);
        root.Options.Add(interval);
        root.Options.Add(help);
        if (allowFrom) root.Options.Add(from);
        root.TreatUnmatchedTokensAsErrors = false;

        var result = root.Parse([.. args], new ParserConfiguration { ResponseFileTokenReplacer = null });
        if (result.Errors.Count > 0) throw new ArgumentException(result.Errors[0].Message);
        if (result.GetValue(help)) return new PipelineCommandLine(RunMode.Continuous, null, null, [], HelpAsked: true);
        var isOnce = result.GetValue(once);
        var isRebuild = result.GetValue(rebuild);
        if (isOnce && isRebuild) throw new ArgumentException("--once and --rebuild exclude each other.");
        var mode = isOnce ? RunMode.Once : isRebuild ? RunMode.Rebuild : RunMode.Continuous;
        var day = allowFrom ? result.GetValue(from) : null;
        if (day is not null && mode != RunMode.Rebuild) throw new ArgumentException("--from goes with --rebuild.");
        var pause = result.GetValue(interval);
        if (pause is not null && intervalContinuousOnly && mode != RunMode.Continuous) throw new ArgumentException("--interval applies to continuous mode only.");
        return new PipelineCommandLine(mode, pause, day, [.. result.UnmatchedTokens], HelpAsked: false);
    }

    private static TimeSpan? ParseInterval(ArgumentResult result)
    {
        var text = result.Tokens.Count > 0 ? result.Tokens[0].Value : "";
        if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds))
        {
            if (seconds > 0 && seconds < TimeSpan.MaxValue.TotalSeconds) return TimeSpan.FromSeconds(seconds);
        }
        else if (TimeSpan.TryParse(text, CultureInfo.InvariantCulture, out var span) && span > TimeSpan.Zero)
        {
            return span;
        }
        result.AddError($"--interval wants a positive number of seconds or hh:mm:ss, not '{text}'.");
        return null;
    }

    private static DateOnly? ParseDay(ArgumentResult result)
    {
        var text = result.Tokens.Count > 0 ? result.Tokens[0].Value : "";
        if (DateOnly.TryParseExact(text, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var day)) return day;
        result.AddError($"--from wants a day as YYYY-MM-DD, not '{text}'.");
        return null;
    }
}
