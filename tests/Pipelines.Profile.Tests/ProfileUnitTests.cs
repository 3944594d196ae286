using System.ComponentModel.DataAnnotations;
using CustomerData.Cql;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace CustomerData.Pipelines.Profile.Tests;

/// <summary>The pure parts: id runs, rounding and ties, command line, options validation, health.</summary>
public sealed class ProfileUnitTests
{
    [Fact]
    public void Txn_id_runs_behave_as_the_ascending_list_they_stand_for()
    {
        var runs = new TxnIdRuns();
        runs.AddRun(5, 7);
        runs.Add(8);      // joins the run
        runs.AddRun(11, 12);
        runs.Add(20);

        long[] expected = [5, 6, 7, 8, 11, 12, 20];
        Assert.Equal(expected, runs.ToArray());
        Assert.Equal(expected.Length, runs.Count);
        Assert.Equal(expected, Enumerable.Range(0, runs.Count).Select(i => runs[i]).ToArray());
        Assert.Equal(3, runs.Runs.Count);
        Assert.Throws<ArgumentException>(() => runs.AddRun(15, 25));
        Assert.Throws<ArgumentOutOfRangeException>(() => runs[7]);
    }

    [Fact]
    public void A_customer_with_more_transactions_than_int_holds_is_a_counted_reject_not_an_exception()
    {
        var poison = new ProfileAggregate();
        poison.Add("Toys", 3_000_000_000, 10m, null, null, 0, 0, 0);
        var fine = new ProfileAggregate();
        fine.Add("Toys", 2, 10m, null, null, 0, 0, 0);
        var report = new DataQualityReport(5);
        CustomerRecord Row(int id) => new(id, $"Customer_{id}", $"customer_{id}@example.com", "M", "2021-01-01");

        var profiles = ProfileCycleRunner.BuildProfiles(new Dictionary<int, ProfileAggregate> { [1] = poison, [2] = fine }, [Row(1), Row(2)], report);

        Assert.Equal([2], profiles.Select(p => p.CustomerId));
        Assert.Equal(1, report.Rejects[QualityReasons.TotalOverflow]);
        Assert.Contains("customer_id=1 ", report.RejectSamples(QualityReasons.TotalOverflow)[0], StringComparison.Ordinal);
    }

    [Fact]
    public void A_million_contiguous_ids_cost_one_run_and_the_watermark_walks_them()
    {
        var runs = new TxnIdRuns();
        runs.AddRun(1, 1_000_000);
        var advance = new CustomerData.Contracts.Offsets.TxnIdWatermark(TimeSpan.FromSeconds(30)).Advance(0, runs);
        Assert.Single(runs.Runs);
        Assert.Equal(1_000_000, advance.Offset);
    }

    [Theory]
    [InlineData("0.05", 2, "0.03")]     // 0.025 → away from zero
    [InlineData("0.01", 3, "0.00")]     // 0.00333
    [InlineData("100.00", 3, "33.33")]
    [InlineData("200.00", 3, "66.67")]
    [InlineData("-0.05", 2, "-0.03")]   // a refund-heavy customer rounds away from zero too
    [InlineData("0", 0, "0")]
    public void Average_order_value_rounds_half_away_from_zero_to_two_decimals(string spend, long count, string expected)
    {
        var inv = System.Globalization.CultureInfo.InvariantCulture;
        Assert.Equal(decimal.Parse(expected, inv), ProfileAggregate.AverageOrderValue(decimal.Parse(spend, inv), count));
    }

    [Fact]
    public void Favorite_category_is_the_most_frequent_and_a_tie_goes_to_the_ordinal_first()
    {
        var aggregate = new ProfileAggregate();
        aggregate.Add("sports", 2, 1m, null, null, 0, 0, 0);
        aggregate.Add("Toys", 1, 1m, null, null, 0, 0, 0);
        aggregate.Add("Sports", 2, 1m, null, null, 0, 0, 0);
        Assert.Equal("Sports", aggregate.FavoriteCategory());

        var other = new ProfileAggregate();
        other.Add("Toys", 2, 1m, null, null, 0, 0, 0);
        aggregate.Merge(other); // Toys: 3
        Assert.Equal("Toys", aggregate.FavoriteCategory());
        Assert.Equal(7, aggregate.Transactions);
    }

    [Theory]
    [InlineData(new string[0], RunMode.Continuous, null)]
    [InlineData(new[] { "--once" }, RunMode.Once, null)]
    [InlineData(new[] { "--rebuild", "--Profile:Consistency=ONE" }, RunMode.Rebuild, null)]
    [InlineData(new[] { "--interval", "15" }, RunMode.Continuous, 15.0)]
    [InlineData(new[] { "--interval", "00:01:30" }, RunMode.Continuous, 90.0)]
    public void Command_line_modes(string[] args, RunMode mode, double? intervalSeconds)
    {
        var parsed = ProfileCommandLine.Parse(args);
        Assert.Null(parsed.Error);
        Assert.Equal(mode, parsed.Mode);
        Assert.Equal(intervalSeconds, parsed.Interval?.TotalSeconds);
        Assert.Equal(args.Where(a => a.StartsWith("--Profile:", StringComparison.Ordinal)), parsed.HostArgs);
    }

    [Theory]
    [InlineData("--once", "--rebuild")]
    [InlineData("--interval", "soon")]
    [InlineData("--interval", "-5")]
    [InlineData("--once", "--interval", "5")]
    [InlineData("--interval")]
    public void Command_line_errors_are_clear(params string[] args)
    {
        var parsed = ProfileCommandLine.Parse(args);
        Assert.False(string.IsNullOrEmpty(parsed.Error));
    }

    [Fact]
    public void Options_defaults_are_valid_and_bad_values_are_named()
    {
        Assert.Empty(Validate(new ProfileOptions()));
        Assert.Equal(CqlConsistency.LocalQuorum, ProfileOptions.ParseConsistency(new ProfileOptions().Consistency));
        Assert.Equal(CqlConsistency.One, ProfileOptions.ParseConsistency("one"));

        var errors = Validate(new ProfileOptions
        {
            Consistency = "MOSTLY",
            Keyspace = "bad-name; DROP",
        });
        Assert.Contains(errors, e => e.Contains("MOSTLY", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.Contains("Keyspace", StringComparison.Ordinal));
        Assert.Contains(Validate(new ProfileOptions { MaxInFlight = 0 }), e => e.Contains("MaxInFlight", StringComparison.Ordinal));
    }

    /// <summary>As ValidateDataAnnotations does it: attributes first, then <see cref="IValidatableObject"/> when they pass.</summary>
    private static List<string> Validate(ProfileOptions options)
    {
        var results = new List<ValidationResult>();
        Validator.TryValidateObject(options, new ValidationContext(options), results, validateAllProperties: true);
        return results.Select(r => r.ErrorMessage ?? "").ToList();
    }

    [Fact]
    public async Task Health_follows_the_age_of_the_last_good_cycle()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UnixEpoch);
        var state = new ProfileCycleState(time);
        var check = new ProfileHealthCheck(state, Options.Create(new ProfileOptions { MaxCycleAge = TimeSpan.FromMinutes(5) }));
        var context = new HealthCheckContext { Registration = new HealthCheckRegistration("profile-cycle", check, HealthStatus.Unhealthy, null) };

        Assert.Equal(HealthStatus.Healthy, (await check.CheckHealthAsync(context, TestContext.Current.CancellationToken)).Status); // just started
        time.Advance(TimeSpan.FromMinutes(6));
        Assert.Equal(HealthStatus.Unhealthy, (await check.CheckHealthAsync(context, TestContext.Current.CancellationToken)).Status); // no cycle finished yet
        state.MarkGood();
        Assert.Equal(HealthStatus.Healthy, (await check.CheckHealthAsync(context, TestContext.Current.CancellationToken)).Status);
        time.Advance(TimeSpan.FromMinutes(5.5));
        Assert.Equal(HealthStatus.Unhealthy, (await check.CheckHealthAsync(context, TestContext.Current.CancellationToken)).Status);
    }
}
