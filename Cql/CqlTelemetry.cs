using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace CustomerData.Cql;

/// <summary>The ActivitySource and Meter of the client, both named <c>CustomerData.Cql</c>.</summary>
public static class CqlTelemetry
{
    public const string Name = "CustomerData.Cql";

    internal static readonly ActivitySource Source = new(Name);
    internal static readonly Meter Meter = new(Name);

    internal static readonly Histogram<double> Duration = Meter.CreateHistogram<double>(
        "db.client.operation.duration", unit: "s", description: "Duration of CQL requests, retries included.");
    internal static readonly Counter<long> Retries = Meter.CreateCounter<long>(
        "cql.client.retries", description: "Requests retried after ReadTimeout, WriteTimeout, Unavailable or a lost connection.");
    internal static readonly Counter<long> Errors = Meter.CreateCounter<long>(
        "cql.client.errors", description: "Requests that failed, by error type.");
    internal static readonly Counter<long> ConnectionsOpened = Meter.CreateCounter<long>(
        "cql.client.connections.opened", description: "Connections opened (first connect and reconnects).");
}
