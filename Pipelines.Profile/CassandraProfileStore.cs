using System.Diagnostics;
using System.Globalization;
using CustomerData.Contracts;
using CustomerData.Cql;
using Microsoft.Extensions.Options;

namespace CustomerData.Pipelines.Profile;

/// <summary>
/// Writes profiles to Cassandra <c>customer_profile</c> with one prepared INSERT (an upsert: running it
/// twice leaves the same row), many in flight at once, at the configured consistency level.
/// Transient errors (ReadTimeout, WriteTimeout, Unavailable, lost connection) are retried twice over:
/// first by the CQL client (short backoff, <c>Cassandra:cassandra:Session:MaxRetries</c>), then here
/// with a longer doubling backoff (<see cref="ProfileOptions.MaxAttempts"/>), before the cycle gives up.
/// </summary>
public sealed class CassandraProfileStore(CqlSession session, IOptions<ProfileOptions> options, ILogger<CassandraProfileStore> logger) : IProfileStore
{
    private const string Columns = ProfileStoreSchema.Columns;

    private readonly ProfileOptions _options = options.Value;
    private readonly CqlConsistency _consistency = ProfileOptions.ParseConsistency(options.Value.Consistency);

    /// <summary>The keyspace of the connection string, else <see cref="ProfileOptions.Keyspace"/>.</summary>
    public string Keyspace => session.Options.Keyspace ?? _options.Keyspace;

    private string QualifiedTable => $"{Quote(Keyspace)}.{Quote(_options.Table)}";

    /// <summary>The reconcile state beside the profiles; bucket <see cref="UpToBucket"/> holds the txn_id bound.</summary>
    private string ReconcileTable => $"{Quote(Keyspace)}.{Quote(ProfileStoreSchema.ReconcileTable(_options.Table))}";

    private const int UpToBucket = -1;

    public async Task DeleteAsync(IReadOnlyList<int> customerIds, CancellationToken cancellationToken)
    {
        if (customerIds.Count == 0) return;
        var delete = await session.PrepareAsync($"DELETE FROM {QualifiedTable} WHERE customer_id = ?", cancellationToken);
        var queryOptions = new CqlQueryOptions { Consistency = _consistency, IsIdempotent = true };
        await Parallel.ForEachAsync(customerIds,
            new ParallelOptions { MaxDegreeOfParallelism = _options.MaxInFlight, CancellationToken = cancellationToken },
            async (id, ct) => await WithRetriesAsync("delete", id, () => session.ExecuteAsync(delete, [id], queryOptions, ct), ct));
    }

    public async Task<ProfileFingerprintState?> ReadFingerprintsAsync(CancellationToken cancellationToken)
    {
        var buckets = new Dictionary<int, BucketFingerprint>();
        long? upTo = null;
        byte[]? paging = null;
        do
        {
            var page = await WithRetriesAsync("read fingerprints", null, () => session.ExecuteAsync(
                $"SELECT bucket, fingerprint FROM {ReconcileTable}", options: new CqlQueryOptions { Consistency = _consistency, IsIdempotent = true, PagingState = paging },
                cancellationToken: cancellationToken), cancellationToken);
            foreach (var row in page.Rows)
            {
                var bucket = row.GetInt32("bucket");
                var text = row.IsNull("fingerprint") ? null : row.GetString("fingerprint");
                if (bucket == UpToBucket) upTo = long.Parse(text ?? "0", CultureInfo.InvariantCulture);
                else if (BucketFingerprint.Parse(text) is { } fingerprint) buckets[bucket] = fingerprint;
            }
            paging = page.PagingState;
        } while (paging is not null);
        return upTo is null ? null : new ProfileFingerprintState(upTo.Value, buckets);
    }

    public async Task WriteFingerprintsAsync(IReadOnlyDictionary<int, BucketFingerprint?> buckets, long upTo, CancellationToken cancellationToken)
    {
        var upsert = await session.PrepareAsync($"INSERT INTO {ReconcileTable} (bucket, fingerprint) VALUES (?, ?)", cancellationToken);
        var delete = await session.PrepareAsync($"DELETE FROM {ReconcileTable} WHERE bucket = ?", cancellationToken);
        var queryOptions = new CqlQueryOptions { Consistency = _consistency, IsIdempotent = true };
        await Parallel.ForEachAsync(buckets,
            new ParallelOptions { MaxDegreeOfParallelism = _options.MaxInFlight, CancellationToken = cancellationToken },
            async (kv, ct) => await WithRetriesAsync("write fingerprint", null, () => kv.Value is { } f
                ? session.ExecuteAsync(upsert, [kv.Key, f.ToString()], queryOptions, ct)
                : session.ExecuteAsync(delete, [kv.Key], queryOptions, ct), ct));
        // The bound last: a crash before it leaves buckets that disagree with the source, which reconcile recomputes.
        await WithRetriesAsync("write fingerprint bound", null, () => session.ExecuteAsync(upsert, [UpToBucket, upTo.ToString(CultureInfo.InvariantCulture)], queryOptions, cancellationToken), cancellationToken);
    }

    public async Task VerifySchemaAsync(CancellationToken cancellationToken)
    {
        foreach (var table in new[] { QualifiedTable, ReconcileTable })
        {
            try
            {
                await WithRetriesAsync("verify schema", null, () => session.ExecuteAsync($"SELECT * FROM {table} LIMIT 1",
                    options: new CqlQueryOptions { Consistency = _consistency, IsIdempotent = true }, cancellationToken: cancellationToken), cancellationToken);
            }
            catch (CqlInvalidQueryException ex)
            {
                throw new ProfileStoreSchemaException(
                    $"Cassandra table {table} is not there ({ex.Message}). The Migrations project applies the platform's schema: " +
                    "it runs first under the AppHost; alone, run `dotnet run --project Migrations` with the same connection strings.");
            }
        }
        logger.LogInformation("Cassandra table {Table} ready (writes at {Consistency})", QualifiedTable, _consistency);
    }

    public async Task WriteAsync(IReadOnlyList<CustomerProfile> profiles, Action<int>? onProgress, CancellationToken cancellationToken)
    {
        var insert = await session.PrepareAsync($"INSERT INTO {QualifiedTable} ({Columns}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", cancellationToken);
        var select = _options.VerifyReadBack
            ? await session.PrepareAsync($"SELECT {Columns} FROM {QualifiedTable} WHERE customer_id = ?", cancellationToken)
            : null;
        var queryOptions = new CqlQueryOptions { Consistency = _consistency, IsIdempotent = true };
        var written = 0;
        var mismatches = 0;
        await Parallel.ForEachAsync(profiles,
            new ParallelOptions { MaxDegreeOfParallelism = _options.MaxInFlight, CancellationToken = cancellationToken },
            async (profile, ct) =>
            {
                var started = Stopwatch.GetTimestamp();
                await WithRetriesAsync("upsert", profile.CustomerId, () => session.ExecuteAsync(insert, Values(profile), queryOptions, ct), ct);
                ProfileTelemetry.WriteLatency.Record(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
                if (select is not null)
                {
                    var result = await WithRetriesAsync("read-back", profile.CustomerId,
                        () => session.ExecuteAsync(select, [profile.CustomerId], queryOptions, ct), ct);
                    if (Describe(result.FirstOrDefault()) is var stored && stored != Describe(profile))
                    {
                        Interlocked.Increment(ref mismatches);
                        logger.LogError("Read-back of customer {CustomerId} differs: wrote {Written}, read {Read}", profile.CustomerId, Describe(profile), stored);
                    }
                }
                onProgress?.Invoke(Interlocked.Increment(ref written));
            });
        if (mismatches > 0)
        {
            throw new ProfileVerificationException($"{mismatches} of {profiles.Count} profile(s) read back differently from what was written.");
        }
    }

    private static object?[] Values(CustomerProfile p) =>
    [
        p.CustomerId, p.Name, p.Email, p.Gender, p.TotalSpend, p.TotalTransactions, p.AvgOrderValue,
        p.FirstPurchase, p.LastPurchase, p.FavoriteCategory,
    ];

    private async Task<T> WithRetriesAsync<T>(string operation, int? customerId, Func<Task<T>> action, CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await action();
            }
            catch (Exception ex) when (IsTransient(ex) && attempt < _options.MaxAttempts)
            {
                ProfileTelemetry.WriteRetries.Add(1, new KeyValuePair<string, object?>("error.type", ex.GetType().Name));
                // Doubling backoff with jitter, so many in-flight writes do not retry in lockstep.
                var delay = _options.RetryBaseDelay * Math.Pow(2, attempt - 1) * (0.5 + Random.Shared.NextDouble());
                logger.LogWarning("Cassandra {Operation} (customer {CustomerId}) failed with {ErrorType} (attempt {Attempt} of {MaxAttempts}); retrying in {DelayMs} ms",
                    operation, customerId, ex.GetType().Name, attempt, _options.MaxAttempts, (int)delay.TotalMilliseconds);
                await Task.Delay(delay, cancellationToken);
            }
        }
    }

    /// <summary>The errors after which a retry of an idempotent statement can succeed.</summary>
    public static bool IsTransient(Exception ex) =>
        ex is CqlWriteTimeoutException or CqlReadTimeoutException or CqlUnavailableException
            or CqlConnectionException or CqlRequestTimeoutException or CqlNoHostAvailableException;

    private static string Describe(CustomerProfile p) => string.Create(CultureInfo.InvariantCulture,
        $"{p.CustomerId}|{p.Name}|{p.Email}|{p.Gender}|{p.TotalSpend}|{p.TotalTransactions}|{p.AvgOrderValue}|" +
        $"{p.FirstPurchase?.ToUnixTimeMilliseconds()}|{p.LastPurchase?.ToUnixTimeMilliseconds()}|{p.FavoriteCategory}");

    private static string Describe(CqlRow? row) => row is null ? "(no row)" : Describe(ReadProfile(row));

    /// <summary>A <c>customer_profile</c> row as a <see cref="CustomerProfile"/>.</summary>
    public static CustomerProfile ReadProfile(CqlRow row) => new(
        row.GetInt32("customer_id"),
        row.IsNull("name") ? "" : row.GetString("name"),
        row.IsNull("email") ? "" : row.GetString("email"),
        row.IsNull("gender") ? "" : row.GetString("gender"),
        row.IsNull("total_spend") ? 0m : row.GetDecimal("total_spend"),
        row.IsNull("total_transactions") ? 0 : row.GetInt32("total_transactions"),
        row.IsNull("avg_order_value") ? 0m : row.GetDecimal("avg_order_value"),
        row.IsNull("first_purchase") ? null : row.GetTimestamp("first_purchase"),
        row.IsNull("last_purchase") ? null : row.GetTimestamp("last_purchase"),
        row.IsNull("favorite_category") ? "" : row.GetString("favorite_category"));

    private static string Quote(string identifier) => ProfileStoreSchema.Quote(identifier);
}
