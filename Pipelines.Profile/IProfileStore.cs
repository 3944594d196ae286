namespace CustomerData.Pipelines.Profile;

/// <summary>Where profiles go: Cassandra <c>customer_profile</c> (see <c>CassandraProfileStore</c>).</summary>
public interface IProfileStore
{
    /// <summary>Throws <see cref="ProfileStoreSchemaException"/> when the tables the Migrations project creates are missing.</summary>
    Task VerifySchemaAsync(CancellationToken cancellationToken);

    /// <summary>
    /// Upserts every profile (idempotent), retrying transient server errors; optionally reads them back
    /// and compares. Throws when any profile could not be written or verified, so the cycle does not
    /// advance its offset. <paramref name="onProgress"/> receives the number written so far.
    /// </summary>
    Task WriteAsync(IReadOnlyList<CustomerProfile> profiles, Action<int>? onProgress, CancellationToken cancellationToken);

    /// <summary>Deletes the profiles of customers that no longer have any (valid) transactions.</summary>
    Task DeleteAsync(IReadOnlyList<int> customerIds, CancellationToken cancellationToken);

    /// <summary>The reconcile state, or null when none was stored yet.</summary>
    Task<ProfileFingerprintState?> ReadFingerprintsAsync(CancellationToken cancellationToken);

    /// <summary>Stores <paramref name="buckets"/> (null: the bucket has no rows) and then the state's txn_id bound.</summary>
    Task WriteFingerprintsAsync(IReadOnlyDictionary<int, BucketFingerprint?> buckets, long upTo, CancellationToken cancellationToken);
}

/// <summary>A profile read back from the store differs from the one written.</summary>
public sealed class ProfileVerificationException(string message) : Exception(message);

/// <summary>The profile store's tables are missing: the platform's migration has not run against this Cassandra.</summary>
public sealed class ProfileStoreSchemaException(string message) : Exception(message);
