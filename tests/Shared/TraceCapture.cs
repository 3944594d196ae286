using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using OpenTelemetry.Trace;

namespace CustomerData.Tests.Shared;

/// <summary>
/// ServiceDefaults' tracing (its sources and sampler) with an in-memory exporter: what the host would send to the
/// dashboard, as finished spans. Read <see cref="Snapshot"/> after the work; the exporter appends while spans end.
/// </summary>
public sealed class TraceCapture : IAsyncDisposable
{
    private readonly List<Activity> _spans = [];
    private IHost? _host;

    /// <summary>Adds ServiceDefaults' tracing and the in-memory exporter to the host being built.</summary>
    public static TraceCapture AddTo(IHostApplicationBuilder builder)
    {
        var capture = new TraceCapture();
        builder.ConfigureOpenTelemetry();
        builder.Services.AddOpenTelemetry().WithTracing(t => t.AddInMemoryExporter(capture._spans));
        return capture;
    }

    /// <summary>Adds only the in-memory exporter, for a host that calls <c>AddServiceDefaults</c> itself (the Api).</summary>
    public static TraceCapture AddExporter(IServiceCollection services)
    {
        var capture = new TraceCapture();
        services.AddOpenTelemetry().WithTracing(t => t.AddInMemoryExporter(capture._spans));
        return capture;
    }

    /// <summary>
    /// A host of its own with ServiceDefaults' tracing, for code a test runs outside a host: its listener hears every
    /// source in the process, so pick the spans by trace.
    /// </summary>
    public static async Task<TraceCapture> StartAsync()
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        var capture = AddTo(builder);
        capture._host = builder.Build();
        await capture._host.StartAsync();
        return capture;
    }

    public async ValueTask DisposeAsync()
    {
        if (_host is null) return;
        await _host.StopAsync();
        _host.Dispose();
    }

    /// <summary>The spans exported so far (a copy; taken again while the exporter appends).</summary>
    public IReadOnlyList<Activity> Snapshot()
    {
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                return _spans.ToArray();
            }
            catch (ArgumentException) when (attempt < 10)
            {
                // The list grew during the copy.
            }
        }
    }

    /// <summary>Every span of the trace <paramref name="traceId"/>.</summary>
    public IReadOnlyList<Activity> Trace(ActivityTraceId traceId) => Snapshot().Where(s => s.TraceId == traceId).ToList();

    /// <summary>The descendants of <paramref name="root"/> among the exported spans.</summary>
    public IReadOnlyList<Activity> Descendants(Activity root)
    {
        var trace = Trace(root.TraceId);
        var found = new List<Activity>();
        var parents = new HashSet<ActivitySpanId> { root.SpanId };
        bool grew;
        do
        {
            grew = false;
            foreach (var span in trace)
            {
                if (!found.Contains(span) && parents.Contains(span.ParentSpanId))
                {
                    found.Add(span);
                    parents.Add(span.SpanId);
                    grew = true;
                }
            }
        } while (grew);
        return found;
    }

    /// <summary>The names and tag values of <paramref name="spans"/>, for the personal-data checks.</summary>
    public static List<string> NamesAndTagValues(IEnumerable<Activity> spans) =>
        spans.SelectMany(s => new[] { s.DisplayName }.Concat(s.TagObjects.Select(t => t.Value?.ToString() ?? ""))).ToList();
}
