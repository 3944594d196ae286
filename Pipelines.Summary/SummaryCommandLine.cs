using System.Globalization;

namespace CustomerData.Pipelines.Summary;

public enum SummaryMode
{
    Continuous,
    Once,
    Rebuild,
}

/// <summary>
/// <c>[--once | --rebuild [--from YYYY-MM-DD]] [--interval SECONDS|hh:mm:ss]</c>; other arguments go to the host
/// (for example <c>--Lake:Root=/data/lake</c>).
/// </summary>
public sealed record SummaryCommandLine(SummaryMode Mode, TimeSpan? Interval, DateOnly? From, string[] HostArgs)
{
    public const string Usage = "usage: Pipelines.Summary [--once | --rebuild [--from YYYY-MM-DD]] [--interval SECONDS] [--Section:Key=value ...]";

    public static SummaryCommandLine Parse(IReadOnlyList<string> args)
    {
        var mode = SummaryMode.Continuous;
        TimeSpan? interval = null;
        DateOnly? from = null;
        var rest = new List<string>();
        for (var i = 0; i < args.Count; i++)
        {
            switch (args[i])
            {
                case "--once":
                    mode = mode == SummaryMode.Continuous ? SummaryMode.Once : throw new ArgumentException("--once and --rebuild exclude each other.");
                    break;
                case "--rebuild":
                    mode = mode == SummaryMode.Continuous ? SummaryMode.Rebuild : throw new ArgumentException("--once and --rebuild exclude each other.");
                    break;
                case "--from":
                    var day = Value(args, ref i);
                    from = DateOnly.TryParseExact(day, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var d)
                        ? d : throw new ArgumentException($"--from wants a day as YYYY-MM-DD, not '{day}'.");
                    break;
                case "--interval":
                    var text = Value(args, ref i);
                    interval = double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds) && seconds > 0
                        ? TimeSpan.FromSeconds(seconds)
                        : TimeSpan.TryParse(text, CultureInfo.InvariantCulture, out var span) && span > TimeSpan.Zero
                            ? span
                            : throw new ArgumentException($"--interval wants a positive number of seconds, not '{text}'.");
                    break;
                default:
                    rest.Add(args[i]);
                    break;
            }
        }
        if (from is not null && mode != SummaryMode.Rebuild) throw new ArgumentException("--from goes with --rebuild.");
        return new SummaryCommandLine(mode, interval, from, [.. rest]);
    }

    private static string Value(IReadOnlyList<string> args, ref int i) =>
        ++i < args.Count ? args[i] : throw new ArgumentException($"{args[i - 1]} needs a value.");
}
