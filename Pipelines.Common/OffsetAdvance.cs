using System.Globalization;
using CustomerData.Contracts.Offsets;
using Microsoft.Extensions.Logging;

namespace CustomerData.Pipelines;

/// <summary>
/// The offset step both pipelines take after a cycle's writes: <see cref="TxnIdWatermark"/> over the ids read above the
/// offset, and the same log lines for gaps still waiting and gaps passed over after the grace period.
/// </summary>
public static partial class OffsetAdvance
{
    /// <summary>The offset that is safe to store now; pending and expired gaps are logged (expired: a data-quality warning with up to 1,000 missing ids).</summary>
    public static WatermarkAdvance Advance(TxnIdWatermark watermark, long offset, IReadOnlyList<long> idsAscending, string pipeline, ILogger logger)
    {
        var advance = watermark.Advance(offset, idsAscending);
        var pending = advance.PendingGaps.Sum(g => g.Count);
        if (pending > 0) OffsetHeld(logger, pipeline, advance.Offset, pending, Format(advance.PendingGaps), watermark.GracePeriod.TotalSeconds);
        var expired = advance.ExpiredGaps.Sum(g => g.Count);
        if (expired > 0)
        {
            var missing = advance.ExpiredGaps.SelectMany(g => Range(g.FirstMissing, g.LastMissing)).Take(1000).ToArray();
            GapExpired(logger, pipeline, watermark.GracePeriod.TotalSeconds, expired, Format(advance.ExpiredGaps), missing);
        }
        return advance;
    }

    public static string Format(IEnumerable<TxnIdGap> gaps) =>
        string.Join(", ", gaps.Select(g => g.FirstMissing == g.LastMissing ? g.FirstMissing.ToString(CultureInfo.InvariantCulture) : $"{g.FirstMissing}-{g.LastMissing}"));

    private static IEnumerable<long> Range(long first, long last)
    {
        for (var i = first; i <= last; i++) yield return i;
    }

    [LoggerMessage(Level = LogLevel.Information,
        Message = "{Pipeline} offset held at {Offset}: {PendingIds} txn_ids missing in {Gaps}, waiting up to {GraceSeconds} s for them to commit")]
    private static partial void OffsetHeld(ILogger logger, string pipeline, long offset, long pendingIds, string gaps, double graceSeconds);

    [LoggerMessage(Level = LogLevel.Warning,
        Message = "Data quality ({Pipeline}): gap in the txn_id sequence outlived the {GraceSeconds} s grace period; {MissingCount} txn_ids never appeared ({Gaps}); missing ids {MissingIds}")]
    private static partial void GapExpired(ILogger logger, string pipeline, double graceSeconds, long missingCount, string gaps, long[] missingIds);
}
