namespace CustomerData.Contracts.Offsets;

/// <summary>A run of txn_ids missing between processed ones: [<see cref="FirstMissing"/>, <see cref="LastMissing"/>].</summary>
public sealed record TxnIdGap(long FirstMissing, long LastMissing, DateTimeOffset FirstSeen)
{
    public long Count => LastMissing - FirstMissing + 1;
}

/// <summary>
/// The result of <see cref="TxnIdWatermark.Advance"/>: the offset that is safe to store, the gaps
/// still inside their grace period (the offset waits below them) and the gaps that outlived it
/// (reported as data-quality warnings and passed over).
/// </summary>
public sealed record WatermarkAdvance(long Offset, IReadOnlyList<TxnIdGap> PendingGaps, IReadOnlyList<TxnIdGap> ExpiredGaps);

/// <summary>
/// Decides how far a pipeline's offset may move over newly seen txn_ids.
/// Auto-increment ids can commit out of order: a transaction still open holds a lower id than
/// rows already visible. So the offset moves only over ids that are contiguous with it; a gap holds
/// it back until the gap is older than the grace period, after which the gap is reported and
/// passed over. Rows above a pending gap may be processed (the pipelines recompute whole days or
/// customers, which is idempotent); they are simply read again next cycle.
/// The first-seen time of gaps is kept in memory: after a restart a gap's clock starts again,
/// which only delays the offset, never skips a row.
/// </summary>
public sealed class TxnIdWatermark(TimeSpan gracePeriod, TimeProvider? timeProvider = null)
{
    private readonly TimeProvider _time = timeProvider ?? TimeProvider.System;
    private List<TxnIdGap> _known = [];

    public TimeSpan GracePeriod => gracePeriod;

    /// <param name="storedOffset">The offset stored now: every id up to it is done.</param>
    /// <param name="newIdsAscending">Every visible txn_id above <paramref name="storedOffset"/>, ascending.</param>
    public WatermarkAdvance Advance(long storedOffset, IReadOnlyList<long> newIdsAscending)
    {
        var now = _time.GetUtcNow();
        var offset = storedOffset;
        var blocked = false;
        var expected = storedOffset + 1;
        var pending = new List<TxnIdGap>();
        var expired = new List<TxnIdGap>();
        var seen = new List<TxnIdGap>();

        foreach (var id in newIdsAscending)
        {
            if (id < expected) continue; // duplicate or at/below the offset: nothing new
            if (id > expected)
            {
                var gap = new TxnIdGap(expected, id - 1, FirstSeen(expected, id - 1, now));
                seen.Add(gap);
                if (!blocked && now - gap.FirstSeen >= gracePeriod)
                {
                    expired.Add(gap);
                }
                else
                {
                    pending.Add(gap);
                    blocked = true;
                }
            }
            if (!blocked) offset = id;
            expected = id + 1;
        }

        // Remember only the gaps that still matter: those above the new offset.
        _known = seen.Where(g => g.FirstMissing > offset).ToList();
        return new WatermarkAdvance(offset, pending, expired);
    }

    private DateTimeOffset FirstSeen(long first, long last, DateTimeOffset now)
    {
        var earliest = now;
        foreach (var g in _known)
        {
            if (g.FirstMissing <= last && g.LastMissing >= first && g.FirstSeen < earliest) earliest = g.FirstSeen;
        }
        return earliest;
    }
}
