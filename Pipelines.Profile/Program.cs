using CustomerData.Pipelines;
using CustomerData.Pipelines.Common;
using CustomerData.Pipelines.Profile;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;

var command = ProfileCommandLine.Parse(args);
if (command.Error is not null)
{
    if (command.Error.Length > 0) Console.Error.WriteLine(command.Error);
    Console.Error.WriteLine(ProfileCommandLine.Usage);
    return command.Error.Length > 0 ? 2 : 0;
}

var builder = WebApplication.CreateBuilder(command.HostArgs);
if (command.Interval is { } interval)
{
    builder.Configuration[$"{ProfileOptions.SectionName}:{nameof(ProfileOptions.Interval)}"] = interval.ToString("c");
}
builder.AddServiceDefaults();
builder.AddProfilePipeline(continuous: command.Mode == RunMode.Continuous);

await using var app = builder.Build();
if (command.Mode == RunMode.Continuous)
{
    app.MapDefaultEndpoints();
    app.MapProfileAdmin();
    app.MapQualityEndpoint();
    await app.RunAsync();
    return 0;
}

// One-shot modes: no web server, but the telemetry providers are built so the cycle's span
// and metrics are exported (and flushed when the app is disposed).
_ = app.Services.GetService<TracerProvider>();
_ = app.Services.GetService<MeterProvider>();
using var cancellation = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) => { e.Cancel = true; cancellation.Cancel(); };
var runner = app.Services.GetRequiredService<ProfileCycleRunner>();
var options = app.Services.GetRequiredService<Microsoft.Extensions.Options.IOptions<ProfileOptions>>().Value;
var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("CustomerData.Pipelines.Profile");
// The shared one-shot retry (as Pipeline B's): a failed or skipped cycle is tried again with backoff before exit code 1.
var ok = await CustomerData.Pipelines.Common.OneShotRetry.RunAsync(async ct =>
    {
        var result = await runner.RunCycleAsync(command.Mode == RunMode.Rebuild ? CycleMode.Rebuild : CycleMode.Incremental, ct);
        if (result.Skipped) throw new TimeoutException("The profile writer lock stayed held by another instance.");
        if (!result.Succeeded) throw result.Error ?? new InvalidOperationException("The profile cycle failed.");
    },
    new CustomerData.Pipelines.Common.RetrySettings(options.RunAttempts, options.RunRetryDelay, options.RunRetryDelay * 8),
    onRetry: (ex, attempt, delay) => logger.LogWarning("Profile run attempt {Attempt} of {MaxAttempts} failed ({ErrorType}); retrying in {DelaySeconds} s",
        attempt, options.RunAttempts, ex.GetType().Name, delay.TotalSeconds),
    onGaveUp: (ex, attempts) => logger.LogError("Profile run failed after {Attempts} attempts ({ErrorType}); offset not advanced", attempts, ex.GetType().Name),
    cancellation.Token);
return ok ? 0 : 1;
