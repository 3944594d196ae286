namespace CustomerData.Pipelines.Summary.Tests;

/// <summary>How a rebuild's days are split over concurrent range queries.</summary>
public sealed class QueryLanesTests
{
    private static readonly DateOnly Day0 = new(2020, 1, 1);

    private static IEnumerable<DateOnly> Days((DateOnly First, DateOnly Last) range)
    {
        for (var d = range.First; d <= range.Last; d = d.AddDays(1)) yield return d;
    }

    [Theory]
    [InlineData(2000, 2, 2)]
    [InlineData(2000, 3, 3)]
    [InlineData(2000, 1, 1)]
    [InlineData(119, 2, 1)] // too short for two lanes of 60 days
    [InlineData(120, 2, 2)]
    [InlineData(1, 4, 1)]
    public void A_long_run_is_cut_into_lanes_of_about_equal_days_covering_every_day_once(int days, int parallelism, int expectedLanes)
    {
        var lanes = SummaryPipeline.QueryLanes([(Day0, Day0.AddDays(days - 1))], parallelism);

        Assert.Equal(expectedLanes, lanes.Count);
        var covered = lanes.SelectMany(l => l).SelectMany(Days).Order().ToList();
        Assert.Equal(Enumerable.Range(0, days).Select(Day0.AddDays), covered);
        var sizes = lanes.Select(l => l.Sum(r => r.Last.DayNumber - r.First.DayNumber + 1)).ToList();
        Assert.True(sizes.Max() - sizes.Min() <= 1, $"lane sizes {string.Join(",", sizes)}");
    }

    [Fact]
    public void Runs_too_short_to_cut_are_spread_over_lanes_whole_and_each_lane_is_in_day_order()
    {
        var runs = new List<(DateOnly, DateOnly)> { (Day0, Day0.AddDays(59)), (Day0.AddDays(100), Day0.AddDays(129)), (Day0.AddDays(200), Day0.AddDays(239)) };

        var lanes = SummaryPipeline.QueryLanes(runs, 2);

        Assert.Equal(2, lanes.Count);
        Assert.Equal(runs.Order(), lanes.SelectMany(l => l).Order()); // no run cut
        Assert.All(lanes, lane => Assert.Equal(lane.OrderBy(r => r.First), lane));
        Assert.Single(SummaryPipeline.QueryLanes(runs, 1));
    }

    [Fact]
    public void A_cycle_over_a_few_short_runs_stays_on_one_connection()
    {
        // Late rows on an old day plus yesterday and today: fewer days than two lanes' worth.
        var runs = new List<(DateOnly, DateOnly)> { (Day0, Day0), (Day0.AddDays(300), Day0.AddDays(301)) };

        Assert.Single(SummaryPipeline.QueryLanes(runs, 2));
        Assert.Single(SummaryPipeline.QueryLanes([(Day0, Day0.AddDays(118))], 4));
    }
}
