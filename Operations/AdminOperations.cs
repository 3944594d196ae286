using System.Collections.Concurrent;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace CustomerData.Operations;

/// <summary>The admin operations of one process, one instance per name, cancelled when the host stops.</summary>
public sealed class AdminOperations(ILoggerFactory loggers, TimeProvider time, IHostApplicationLifetime lifetime)
{
    private readonly ConcurrentDictionary<string, AdminOperation> _byName = new(StringComparer.Ordinal);

    public AdminOperation Get(string name, string displayName) =>
        _byName.GetOrAdd(name, n => new AdminOperation(n, displayName, loggers.CreateLogger<AdminOperation>(), time, lifetime.ApplicationStopping));
}
