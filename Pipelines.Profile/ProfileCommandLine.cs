using System.Globalization;

namespace CustomerData.Pipelines.Profile;

public enum RunMode
{
    Continuous,
    Once,
    Rebuild,
}

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
        var mode = RunMode.Continuous;
        TimeSpan? interval = null;
        var hostArgs = new List<string>();
        for (var i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--once":
                    if (mode == RunMode.Rebuild) return Fail("--once and --rebuild cannot be combined.");
                    mode = RunMode.Once;
                    break;
                case "--rebuild":
                    if (mode == RunMode.Once) return Fail("--once and --rebuild cannot be combined.");
                    mode = RunMode.Rebuild;
                    break;
                case "--interval":
                    if (i + 1 >= args.Length) return Fail("--interval needs a value (seconds or hh:mm:ss).");
                    if (ParseInterval(args[++i]) is not { } parsed) return Fail($"--interval value '{args[i]}' is not a positive number of seconds or hh:mm:ss.");
                    interval = parsed;
                    break;
                case "--help" or "-h":
                    return Fail("");
                default:
                    hostArgs.Add(args[i]);
                    break;
            }
        }
        if (interval is not null && mode != RunMode.Continuous) return Fail("--interval applies to continuous mode only.");
        return new ProfileCommandLine(mode, interval, hostArgs.ToArray(), null);

        static ProfileCommandLine Fail(string message) => new(RunMode.Continuous, null, [], message);
    }

    private static TimeSpan? ParseInterval(string text)
    {
        if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds))
        {
            return seconds > 0 && seconds < TimeSpan.MaxValue.TotalSeconds ? TimeSpan.FromSeconds(seconds) : null;
        }
        return TimeSpan.TryParse(text, CultureInfo.InvariantCulture, out var span) && span > TimeSpan.Zero ? span : null;
    }
}
