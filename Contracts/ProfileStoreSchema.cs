using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace CustomerData.Contracts;

/// <summary>
/// The Cassandra side of the platform's schema (SPEC section 4): the keyspace, <c>customer_profile</c> and Pipeline A's
/// reconcile state beside it. Applied once by the Migrations project; Pipeline A and the Api only check it is there.
/// </summary>
public static partial class ProfileStoreSchema
{
    public const string DefaultTable = "customer_profile";

    /// <summary>The columns of <c>customer_profile</c> in the order the store writes them.</summary>
    public const string Columns =
        "customer_id, name, email, gender, total_spend, total_transactions, avg_order_value, first_purchase, last_purchase, favorite_category";

    /// <summary>Pipeline A's per-bucket fingerprints, named after the profile table.</summary>
    public static string ReconcileTable(string table) => table + "_reconcile";

    /// <summary>A name the keyspace and table options accept: a plain CQL identifier of at most 48 characters.</summary>
    public static bool IsIdentifier(string name) => Identifier().IsMatch(name);

    [GeneratedRegex("^[A-Za-z][A-Za-z0-9_]{0,47}$")]
    private static partial Regex Identifier();

    /// <summary>A CQL identifier in double quotes.</summary>
    public static string Quote(string identifier) => "\"" + identifier.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";

    public static string CreateKeyspace(string keyspace, string replicationMap) =>
        $"CREATE KEYSPACE IF NOT EXISTS {Quote(keyspace)} WITH replication = {replicationMap}";

    /// <summary>The tables, idempotent (<c>IF NOT EXISTS</c>).</summary>
    public static IReadOnlyList<string> CreateTables(string keyspace, string table) =>
    [
        $"CREATE TABLE IF NOT EXISTS {Quote(keyspace)}.{Quote(table)} (" +
        "customer_id int PRIMARY KEY, name text, email text, gender text, total_spend decimal, " +
        "total_transactions int, avg_order_value decimal, first_purchase timestamp, last_purchase timestamp, " +
        "favorite_category text)",
        $"CREATE TABLE IF NOT EXISTS {Quote(keyspace)}.{Quote(ReconcileTable(table))} (bucket int PRIMARY KEY, fingerprint text)",
    ];

    /// <summary>The replication map, e.g. <c>{'class': 'SimpleStrategy', 'replication_factor': 1}</c>.</summary>
    public static string ReplicationMap(string strategy, int replicationFactor, IReadOnlyDictionary<string, int> dataCenters)
    {
        if (!string.Equals(strategy, "NetworkTopologyStrategy", StringComparison.OrdinalIgnoreCase))
        {
            return string.Create(CultureInfo.InvariantCulture, $"{{'class': 'SimpleStrategy', 'replication_factor': {replicationFactor}}}");
        }
        var text = new StringBuilder("{'class': 'NetworkTopologyStrategy'");
        foreach (var (dataCenter, replicas) in dataCenters.OrderBy(kv => kv.Key, StringComparer.Ordinal))
        {
            text.Append(CultureInfo.InvariantCulture, $", '{dataCenter}': {replicas}");
        }
        return text.Append('}').ToString();
    }
}
