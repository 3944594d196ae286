using CustomerData.Contracts.Offsets;
using Microsoft.Extensions.Time.Testing;

namespace CustomerData.Contracts.Tests;

public sealed class TxnIdWatermarkTests
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2025, 12, 10, 0, 0, 0, TimeSpan.Zero));

    [Fact]
    public void Contiguous_ids_move_the_offset_to_the_last_one()
    {
        var watermark = new TxnIdWatermark(TimeSpan.FromSeconds(30), _time);

        var result = watermark.Advance(10, [11, 12, 13]);

        Assert.Equal(13, result.Offset);
        Assert.Empty(result.PendingGaps);
        Assert.Empty(result.ExpiredGaps);
    }

    [Fact]
    public void A_gap_holds_the_offset_until_the_late_id_commits()
    {
        var watermark = new TxnIdWatermark(TimeSpan.FromSeconds(30), _time);

        var first = watermark.Advance(10, [11, 13, 14]);
        _time.Advance(TimeSpan.FromSeconds(5));
        var second = watermark.Advance(first.Offset, [12, 13, 14]);

        Assert.Equal(11, first.Offset);
        Assert.Equal([new TxnIdGap(12, 12, _time.GetUtcNow() - TimeSpan.FromSeconds(5))], first.PendingGaps);
        Assert.Equal(14, second.Offset);
        Assert.Empty(second.PendingGaps);
    }

    [Fact]
    public void A_gap_older_than_the_grace_period_is_reported_once_and_passed_over()
    {
        var watermark = new TxnIdWatermark(TimeSpan.FromSeconds(30), _time);

        var first = watermark.Advance(0, [1, 2, 5, 6]);
        _time.Advance(TimeSpan.FromSeconds(29));
        var stillWaiting = watermark.Advance(first.Offset, [5, 6]);
        _time.Advance(TimeSpan.FromSeconds(1));
        var passed = watermark.Advance(stillWaiting.Offset, [5, 6, 7]);
        var after = watermark.Advance(passed.Offset, [8]);

        Assert.Equal(2, first.Offset);
        Assert.Equal(2, stillWaiting.Offset);
        Assert.Equal(7, passed.Offset);
        Assert.Equal([(3L, 4L)], passed.ExpiredGaps.Select(g => (g.FirstMissing, g.LastMissing)));
        Assert.Equal(8, after.Offset);
        Assert.Empty(after.ExpiredGaps);
    }

    [Fact]
    public void A_partly_filled_gap_keeps_its_first_seen_time()
    {
        var watermark = new TxnIdWatermark(TimeSpan.FromSeconds(30), _time);

        watermark.Advance(0, [1, 10]);
        _time.Advance(TimeSpan.FromSeconds(20));
        var partly = watermark.Advance(1, [5, 10]);
        _time.Advance(TimeSpan.FromSeconds(10));
        var expired = watermark.Advance(1, [5, 10]);

        Assert.Equal(1, partly.Offset);
        Assert.Equal(10, expired.Offset);
        Assert.Equal([(2L, 4L), (6L, 9L)], expired.ExpiredGaps.Select(g => (g.FirstMissing, g.LastMissing)));
    }
}
