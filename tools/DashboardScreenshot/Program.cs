using Microsoft.Playwright;

// The README's dashboard screenshot, from Debian's headless chromium (Playwright drives it; no browser download).
// Usage: DashboardScreenshot <dashboard url> <png file> [selector to wait for]
if (args.Length < 2)
{
    Console.Error.WriteLine("usage: DashboardScreenshot <dashboard url> <png file> [selector to wait for, default text=pipelines-events]");
    return 2;
}
using var playwright = await Playwright.CreateAsync();
await using var browser = await playwright.Chromium.LaunchAsync(new() { ExecutablePath = "/usr/bin/chromium", Args = ["--no-sandbox"] });
var page = await browser.NewPageAsync(new() { ViewportSize = new() { Width = 1600, Height = 820 } });
await page.GotoAsync(args[0]);
// The dashboard is a Blazor app: the resource rows arrive over its connection after the page has loaded.
await page.WaitForSelectorAsync(args.Length > 2 ? args[2] : "text=pipelines-events", new() { Timeout = 60_000 });
await page.WaitForTimeoutAsync(4_000);
await page.ScreenshotAsync(new() { Path = args[1] });
Console.WriteLine($"Wrote {args[1]}");
return 0;
