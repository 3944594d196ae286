using System.Diagnostics;

namespace CustomerData.Lake;

/// <summary>
/// The lake's spans (<c>CustomerData.Lake</c>, exported by ServiceDefaults' <c>CustomerData.*</c> wildcard): one per
/// object published, read, listed or deleted, never per row, so a pipeline's trace shows each file it wrote.
/// Keys name days, topics and offsets, never a customer.
/// </summary>
public static class LakeTelemetry
{
    public const string Name = "CustomerData.Lake";

    internal static readonly ActivitySource Source = new(Name);

    /// <summary>A client span <c>lake {operation}</c> under the current one; null when nobody listens.</summary>
    internal static Activity? Start(string operation, string backend, string key, long? bytes = null)
    {
        if (!Source.HasListeners()) return null;
        var activity = Source.StartActivity("lake " + operation, ActivityKind.Client);
        if (activity is null) return null;
        activity.SetTag("lake.operation", operation);
        activity.SetTag("lake.backend", backend);
        activity.SetTag("lake.key", key);
        if (bytes is { } size) activity.SetTag("lake.bytes", size);
        return activity;
    }

    /// <summary>Marks the span failed with the exception's type (its message may hold paths or server text); always false, for exception filters.</summary>
    internal static bool Fail(Activity? activity, Exception exception)
    {
        activity?.SetStatus(ActivityStatusCode.Error, exception.GetType().Name);
        return false;
    }
}
