using CustomerData.Api.Security;
using CustomerData.Pipelines.Events;
using CustomerData.Pipelines.Summary;
using Deque.AxeCore.Playwright;
using Microsoft.Playwright;

namespace CustomerData.Api.Tests;

/// <summary>
/// The Customer 360 page in a real browser (Debian's chromium driven by Playwright) against the real server:
/// the profile card, a bar per day of spend, the event timeline and its type filter, and no serious accessibility
/// violation (axe-core). Leaves a screenshot in the test output folder (docs/customer360.png is one of them).
/// </summary>
public sealed class Customer360PageTests
{
    private const string Chromium = "/usr/bin/chromium";

    [Fact]
    public async Task The_page_shows_profile_spend_and_events_filters_them_and_has_no_serious_accessibility_violation()
    {
        Assert.True(File.Exists(Chromium), $"{Chromium} is missing: tests/run.sh installs Debian's chromium package.");
        var ct = TestContext.Current.CancellationToken;
        await using var host = await ApiHost.StartAsync(kestrel: true);
        await host.InsertProfileAsync(31, "Customer_31", "customer_31@example.com", "O", 1234.5m, 7, 176.36m,
            new DateTimeOffset(2025, 12, 1, 8, 0, 0, TimeSpan.Zero), new DateTimeOffset(2025, 12, 9, 18, 5, 0, TimeSpan.Zero), "Sports");
        var first = new DateOnly(2025, 12, 1);
        for (var d = 0; d < 5; d++) await host.Lake.WriteSummaryDayAsync(first.AddDays(d), [new DailySummary(31, 100m + d * 50, d + 1, 1, "Sports", 1), new DailySummary(32, 5m, 1, 1, "Toys", 1)]);
        var events = Enumerable.Range(0, 6).Select(i => new LakeEvent(Guid.NewGuid().ToString("D"), 31, i % 2 == 0 ? "LIKE" : "CART_ADD", 100 + i,
            first.AddDays(i % 3).ToDateTime(new TimeOnly(10, i), DateTimeKind.Utc), first.AddDays(i % 3).ToDateTime(new TimeOnly(10, i, 30), DateTimeKind.Utc))).ToList();
        long offset = 0;
        foreach (var day in events.GroupBy(e => e.EventDate)) { await host.Lake.WriteBatchAsync(day.Key, day.ToList(), offset); offset += 10; }
        await host.WaitForLakeListingAsync(s => s.SummaryDays.Count == 5 && s.EventDays.Count == 3);

        using var playwright = await Playwright.CreateAsync();
        await using var browser = await playwright.Chromium.LaunchAsync(new() { ExecutablePath = Chromium, Headless = true, Args = ["--no-sandbox"] });
        var page = await browser.NewPageAsync(new() { ViewportSize = new() { Width = 1100, Height = 1400 } });
        await page.GotoAsync(host.Client.BaseAddress!.ToString());
        await page.GetByLabel("Customer id").FillAsync("31");
        await page.GetByLabel("Access token").FillAsync(TestTokens.Create("analyst", ApiScopes.CustomersRead, ApiScopes.AnalyticsRead));
        await page.GetByRole(AriaRole.Button, new() { Name = "Show customer" }).ClickAsync();

        await Assertions.Expect(page.GetByRole(AriaRole.Status)).ToHaveTextAsync("Customer 31 loaded.");
        await Assertions.Expect(page.Locator("#profile")).ToContainTextAsync("customer_31@example.com");
        await Assertions.Expect(page.Locator("#profile")).ToContainTextAsync("1234.5");
        await Assertions.Expect(page.Locator("#spend-chart rect")).ToHaveCountAsync(5);
        Assert.Equal("2025-12-05", await page.Locator("#spend-chart rect").Last.GetAttributeAsync("data-date"));
        await Assertions.Expect(page.Locator("#events li")).ToHaveCountAsync(6);

        await page.GetByLabel("Type").SelectOptionAsync("LIKE");
        await Assertions.Expect(page.Locator("#events li")).ToHaveCountAsync(3);
        Assert.Equal(["LIKE", "LIKE", "LIKE"], await page.Locator("#events li").EvaluateAllAsync<string[]>("items => items.map(i => i.dataset.type)"));
        await page.GetByLabel("From", new() { Exact = true }).FillAsync("2025-12-02");
        await page.GetByRole(AriaRole.Button, new() { Name = "Apply filters" }).ClickAsync();
        await Assertions.Expect(page.Locator("#events li")).ToHaveCountAsync(2);

        var axe = await page.RunAxe();
        var serious = axe.Violations.Where(v => v.Impact is "serious" or "critical").Select(v => $"{v.Id}: {v.Help}").ToList();
        Assert.True(serious.Count == 0, "Accessibility violations: " + string.Join("; ", serious));

        await page.ScreenshotAsync(new() { Path = Path.Combine(AppContext.BaseDirectory, "customer360.png"), FullPage = true });

        // A wrong token says so in words, not a stack trace.
        await page.GetByLabel("Access token").FillAsync("not-a-token");
        await page.GetByRole(AriaRole.Button, new() { Name = "Show customer" }).ClickAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Status)).ToHaveTextAsync("Profile: The access token is missing or not valid.");
    }
}
