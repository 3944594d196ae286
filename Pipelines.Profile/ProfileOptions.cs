using System.ComponentModel.DataAnnotations;
using CustomerData.Contracts;
using CustomerData.Cql;

namespace CustomerData.Pipelines.Profile;

/// <summary>Settings of Pipeline A, bound from the <c>Profile</c> configuration section.</summary>
public sealed partial class ProfileOptions : IValidatableObject
{
    public const string SectionName = "Profile";

    /// <summary>Keyspace of <c>customer_profile</c> when the Cassandra connection string names none.</summary>
    [Required]
    public string Keyspace { get; set; } = PlatformNames.Keyspace;

    /// <summary>Table written by the pipeline.</summary>
    [Required]
    public string Table { get; set; } = "customer_profile";

    /// <summary>Consistency level of the upserts and read-backs (a CQL level name, for example LOCAL_QUORUM).</summary>
    [Required]
    public string Consistency { get; set; } = "LOCAL_QUORUM";

    /// <summary>Upserts in flight at once.</summary>
    [Range(1, 4096)]
    public int MaxInFlight { get; set; } = 64;

    /// <summary>Read every written profile back and compare it with what was written.</summary>
    public bool VerifyReadBack { get; set; }

    /// <summary>Attempts per statement on ReadTimeout, WriteTimeout or Unavailable (the first try included).</summary>
    [Range(1, 20)]
    public int MaxAttempts { get; set; } = 5;

    /// <summary>Backoff before the first retry; doubles each further retry (with jitter).</summary>
    public TimeSpan RetryBaseDelay { get; set; } = TimeSpan.FromMilliseconds(100);

    /// <summary>How long a gap in the txn_id sequence may hold the offset back (an uncommitted insert) before it is reported and passed over.</summary>
    public TimeSpan GapGracePeriod { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Pause between cycles in continuous mode.</summary>
    public TimeSpan Interval { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Customers aggregated per MySQL query.</summary>
    [Range(1, 100_000)]
    public int CustomersPerQuery { get; set; } = 2_000;

    /// <summary>customer_id ranges a rebuild is split into (also its progress steps).</summary>
    [Range(1, 10_000)]
    public int RebuildRanges { get; set; } = 8;

    /// <summary>
    /// Create the covering index <c>ix_transactions_profile (customer_id, product_id, amount, txn_timestamp)</c>
    /// on <c>transactions</c> when missing, so a customer's history is read from the index alone.
    /// </summary>
    public bool CreateCoveringIndex { get; set; } = true;

    /// <summary>MySQL aggregation queries run at once.</summary>
    [Range(1, 64)]
    public int QueryParallelism { get; set; } = 2;

    /// <summary>Rejected or defaulted rows logged as samples per reason and cycle.</summary>
    [Range(0, 1000)]
    public int SamplesPerReason { get; set; } = 5;

    /// <summary>The health check turns unhealthy when the last good cycle is older than this.</summary>
    public TimeSpan MaxCycleAge { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>Attempts of a <c>--once</c> or <c>--rebuild</c> run before exit code 1 (the delay doubles from <see cref="RunRetryDelay"/>).</summary>
    public int RunAttempts { get; set; } = 3;

    public TimeSpan RunRetryDelay { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Name of this source in <c>profile_offsets.source</c>.</summary>
    [Required]
    public string OffsetSource { get; set; } = "transactions";

    /// <summary>How long a cycle waits for the cross-process writer lock before it is skipped (and logged).</summary>
    public TimeSpan LockTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>The reconcile pass (<c>Profile:Reconcile</c>).</summary>
    public ProfileReconcileOptions Reconcile { get; set; } = new();

    /// <summary>A CQL consistency level name (LOCAL_QUORUM, ONE, QUORUM, ...) as the client's enum.</summary>
    public static CqlConsistency ParseConsistency(string name) =>
        Enum.TryParse<CqlConsistency>(name.Replace("_", "", StringComparison.Ordinal), ignoreCase: true, out var level) && Enum.IsDefined(level)
            ? level
            : throw new ArgumentException($"'{name}' is not a CQL consistency level (for example LOCAL_QUORUM, QUORUM, ONE, ALL).");


    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (!ProfileStoreSchema.IsIdentifier(Keyspace)) yield return new ValidationResult($"Profile:Keyspace '{Keyspace}' is not a CQL identifier.", [nameof(Keyspace)]);
        if (!ProfileStoreSchema.IsIdentifier(Table)) yield return new ValidationResult($"Profile:Table '{Table}' is not a CQL identifier.", [nameof(Table)]);
        string? consistencyError = null;
        try { ParseConsistency(Consistency); } catch (ArgumentException ex) { consistencyError = ex.Message; }
        if (consistencyError is not null) yield return new ValidationResult(consistencyError, [nameof(Consistency)]);
        if (GapGracePeriod < TimeSpan.Zero) yield return new ValidationResult("Profile:GapGracePeriod must not be negative.", [nameof(GapGracePeriod)]);
        if (Interval <= TimeSpan.Zero) yield return new ValidationResult("Profile:Interval must be positive.", [nameof(Interval)]);
        if (RetryBaseDelay < TimeSpan.Zero) yield return new ValidationResult("Profile:RetryBaseDelay must not be negative.", [nameof(RetryBaseDelay)]);
        if (RunAttempts < 1) yield return new ValidationResult("Profile:RunAttempts must be at least 1.", [nameof(RunAttempts)]);
        if (RunRetryDelay < TimeSpan.Zero) yield return new ValidationResult("Profile:RunRetryDelay must not be negative.", [nameof(RunRetryDelay)]);
        if (LockTimeout < TimeSpan.Zero) yield return new ValidationResult("Profile:LockTimeout must not be negative.", [nameof(LockTimeout)]);
        if (Reconcile.Interval <= TimeSpan.Zero) yield return new ValidationResult("Profile:Reconcile:Interval must be positive.", [nameof(Reconcile)]);
        if (Reconcile.BucketSize is < 1 or > 1_000_000) yield return new ValidationResult("Profile:Reconcile:BucketSize must be 1..1000000.", [nameof(Reconcile)]);
    }
}

/// <summary>Pipeline A's reconcile pass (<c>Profile:Reconcile:Interval</c>, <c>Profile:Reconcile:BucketSize</c>).</summary>
public sealed class ProfileReconcileOptions
{
    public TimeSpan Interval { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>Customers per fingerprint (customer_id DIV this): a differing bucket recomputes this many customers at most.</summary>
    public int BucketSize { get; set; } = 64;
}
