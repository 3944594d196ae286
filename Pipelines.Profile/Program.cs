using CustomerData.Pipelines;
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
var result = await runner.RunCycleAsync(command.Mode == RunMode.Rebuild ? CycleMode.Rebuild : CycleMode.Incremental, cancellation.Token);
return result.Succeeded ? 0 : 1;
