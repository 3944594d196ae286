using System.Globalization;
using CustomerData.Lake;
using CustomerData.Operations;
using CustomerData.Pipelines.Events.Replay;
using Microsoft.Extensions.Options;

namespace CustomerData.Pipelines.Events;

/// <summary>
/// Operator commands of Pipeline C under <c>/admin</c> (scope <c>ops:write</c>), each in the background, one run at a time:
/// <c>POST /admin/events/compact[?day=YYYY-MM-DD]</c> compacts that day (default: today, UTC) now, through the compactor's
/// own <see cref="EventsCompactor.CompactDayAsync"/> (idempotent: a compacted day has nothing left to rewrite);
/// <c>POST /admin/events/replay-malformed</c> re-decodes the malformed area (<see cref="MalformedReplay"/>). <c>GET</c> of
/// either path shows its state.
/// </summary>
public static class EventsAdminEndpoints
{
    public const string CompactPath = "events/compact";
    public const string ReplayPath = "events/replay-malformed";

    public static WebApplication MapEventsAdmin(this WebApplication app)
    {
        var compactor = app.Services.GetRequiredService<EventsCompactor>();
        var reader = app.Services.GetRequiredService<EventsLakeReader>();
        var lake = app.Services.GetRequiredService<ILakeStorage>();
        var consumers = app.Services.GetRequiredService<EventsConsumerFactory>();
        var replay = app.Services.GetRequiredService<MalformedReplay>();
        var time = app.Services.GetRequiredService<TimeProvider>();
        var admin = app.MapAdminGroup();
        admin.MapOperation(CompactPath, "events-compact", "events day compaction", context =>
        {
            var text = context.Request.Query["day"].ToString();
            var day = DateOnly.FromDateTime(time.GetUtcNow().UtcDateTime);
            if (text.Length > 0 && !DateOnly.TryParseExact(text, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out day))
            {
                return OperationRequest.Invalid("invalid_date_format");
            }
            return OperationRequest.Of(LakeLayout.Day(day), async (progress, ct) =>
            {
                var positions = await PartitionPosition.ReadAllAsync(lake, ct);
                var before = await reader.ReadDayAsync(day, ct);
                progress.Report($"{before.Readable.Count} readable files in {LakeLayout.Day(day)}", 0.1);
                var batches = before.Readable.Select(o => (Ok: EventFileNames.TryParseBatch(EventFileNames.FileName(o.Key), out var b), Batch: b))
                    .Where(x => x.Ok && !positions.ContainsKey((x.Batch.Topic, x.Batch.Partition))).Select(x => x.Batch).ToList();
                IReadOnlyDictionary<(string Topic, int Partition), long> committed = new Dictionary<(string, int), long>();
                if (batches.Count > 0)
                {
                    // Only a lake written before positions needs the group's committed offsets.
                    using var offsets = consumers.CreateOffsetReader();
                    committed = EventsCompactionService.CommittedOffsets(offsets, batches);
                }
                var result = await compactor.CompactDayAsync(day, EventsCompactor.IsCommitted(positions, committed), ct);
                var after = await reader.ReadDayAsync(day, ct);
                return result is null
                    ? $"{LakeLayout.Day(day)}: nothing to compact, {after.Readable.Count} readable files"
                    : $"{LakeLayout.Day(day)}: {result.InputFiles} files into {result.OutputFiles}, {result.Rows} rows, generation {result.Generation}; {after.Readable.Count} readable files now";
            });
        });
        admin.MapOperation(ReplayPath, "events-replay-malformed", "malformed events replay", _ => OperationRequest.Of("the whole malformed area", async (progress, ct) =>
            (await replay.RunAsync((line, fraction) => progress.Report(line, fraction), ct)).ToString()));
        return app;
    }

    /// <summary>The replay and the admin routes' authentication (<c>ops:write</c>).</summary>
    public static IHostApplicationBuilder AddEventsAdmin(this IHostApplicationBuilder builder)
    {
        builder.Services.AddSingleton(sp => new MalformedReplay(sp.GetRequiredService<ILakeStorage>(),
            sp.GetRequiredService<IOptions<EventsOptions>>().Value, sp.GetRequiredService<ILogger<MalformedReplay>>()));
        builder.AddAdminEndpoints();
        return builder;
    }
}
