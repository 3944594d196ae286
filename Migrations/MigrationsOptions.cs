using System.ComponentModel.DataAnnotations;
using System.Text.RegularExpressions;
using CustomerData.Contracts;

namespace CustomerData.Migrations;

/// <summary>The <c>Migrations</c> section: where the Cassandra schema goes and how long to wait for the servers.</summary>
public sealed partial class MigrationsOptions : IValidatableObject
{
    public const string SectionName = "Migrations";

    /// <summary>Keyspace of <c>customer_profile</c> when the Cassandra connection string names none.</summary>
    public string Keyspace { get; set; } = PlatformNames.Keyspace;

    /// <summary>The profile table (Pipeline A's <c>Profile:Table</c> must name the same).</summary>
    public string ProfileTable { get; set; } = ProfileStoreSchema.DefaultTable;

    /// <summary>Replication of the keyspace when it is created: SimpleStrategy or NetworkTopologyStrategy.</summary>
    public string ReplicationStrategy { get; set; } = "SimpleStrategy";

    /// <summary>Replication factor for SimpleStrategy.</summary>
    [Range(1, 32)]
    public int ReplicationFactor { get; set; } = 1;

    /// <summary>Replicas per data center for NetworkTopologyStrategy, e.g. <c>{ "dc1": 3 }</c>.</summary>
    public Dictionary<string, int> DataCenters { get; set; } = [];

    /// <summary>Attempts of each step while its server is not reachable yet.</summary>
    [Range(1, 100)]
    public int MaxAttempts { get; set; } = 8;

    /// <summary>First delay between attempts; it doubles up to 10 s.</summary>
    public TimeSpan RetryDelay { get; set; } = TimeSpan.FromSeconds(1);


    [GeneratedRegex("^[A-Za-z0-9_.-]{1,64}$")]
    private static partial Regex DataCenterName();

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (!ProfileStoreSchema.IsIdentifier(Keyspace)) yield return new ValidationResult($"Migrations:Keyspace '{Keyspace}' is not a CQL identifier.", [nameof(Keyspace)]);
        if (!ProfileStoreSchema.IsIdentifier(ProfileTable)) yield return new ValidationResult($"Migrations:ProfileTable '{ProfileTable}' is not a CQL identifier.", [nameof(ProfileTable)]);
        if (ReplicationStrategy is not ("SimpleStrategy" or "NetworkTopologyStrategy"))
        {
            yield return new ValidationResult("Migrations:ReplicationStrategy must be SimpleStrategy or NetworkTopologyStrategy.", [nameof(ReplicationStrategy)]);
        }
        else if (ReplicationStrategy == "NetworkTopologyStrategy" && (DataCenters.Count == 0
            || DataCenters.Any(kv => !DataCenterName().IsMatch(kv.Key) || kv.Value is < 1 or > 32)))
        {
            yield return new ValidationResult("Migrations:DataCenters must name each data center (letters, digits, _ . -) with 1..32 replicas for NetworkTopologyStrategy.", [nameof(DataCenters)]);
        }
        if (RetryDelay <= TimeSpan.Zero) yield return new ValidationResult("Migrations:RetryDelay must be positive.", [nameof(RetryDelay)]);
    }

    public string ReplicationMap() => ProfileStoreSchema.ReplicationMap(ReplicationStrategy, ReplicationFactor, DataCenters);
}
