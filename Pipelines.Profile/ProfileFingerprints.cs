using System.Globalization;
using MySqlConnector;

namespace CustomerData.Pipelines.Profile;

/// <summary>
/// Cheap fingerprint of the transactions of a bucket of customers (customer_id DIV bucket size): count, sums of amount,
/// product_id, customer_id and the timestamps' seconds, max and XOR of txn_id. Every part composes over rows (sum, max,
/// xor), so an incremental cycle adds its new rows' fingerprint to the stored one instead of rescanning the bucket.
/// </summary>
public readonly record struct BucketFingerprint(long Count, decimal Amount, long MaxId, decimal ProductSum, decimal CustomerSum, decimal SecondsSum, long IdXor)
{
    public BucketFingerprint Add(BucketFingerprint o) =>
        new(Count + o.Count, Amount + o.Amount, Math.Max(MaxId, o.MaxId), ProductSum + o.ProductSum, CustomerSum + o.CustomerSum, SecondsSum + o.SecondsSum, IdXor ^ o.IdXor);

    public override string ToString() => string.Join('|',
        Count.ToString(CultureInfo.InvariantCulture), Amount.ToString("0.00", CultureInfo.InvariantCulture), MaxId.ToString(CultureInfo.InvariantCulture),
        ProductSum.ToString(CultureInfo.InvariantCulture), CustomerSum.ToString(CultureInfo.InvariantCulture), SecondsSum.ToString(CultureInfo.InvariantCulture),
        IdXor.ToString(CultureInfo.InvariantCulture));

    public static BucketFingerprint? Parse(string? text)
    {
        var p = text?.Split('|');
        if (p is not { Length: 7 }) return null;
        var inv = CultureInfo.InvariantCulture;
        return new BucketFingerprint(long.Parse(p[0], inv), decimal.Parse(p[1], inv), long.Parse(p[2], inv), decimal.Parse(p[3], inv), decimal.Parse(p[4], inv), decimal.Parse(p[5], inv), long.Parse(p[6], inv));
    }

    /// <summary>
    /// Per-bucket fingerprints of the rows with <paramref name="above"/> &lt; txn_id &lt;= <paramref name="upTo"/>
    /// (of <paramref name="buckets"/> only, when given). Rows without a customer never reach a profile and are left out.
    /// </summary>
    public static async Task<Dictionary<int, BucketFingerprint>> ReadAsync(MySqlConnection connection, int bucketSize, long above, long upTo,
        IReadOnlyCollection<int>? buckets, CancellationToken cancellationToken)
    {
        var filter = buckets is null ? "" : $" AND customer_id DIV {bucketSize} IN ({string.Join(',', buckets.Select(b => b.ToString(CultureInfo.InvariantCulture)))})";
        await using var command = new MySqlCommand(
            $"SELECT customer_id DIV {bucketSize} AS bucket, COUNT(*), COALESCE(SUM(amount), 0), MAX(txn_id), COALESCE(SUM(product_id), 0), " +
            "SUM(customer_id), COALESCE(SUM(UNIX_TIMESTAMP(txn_timestamp)), 0), BIT_XOR(txn_id) " +
            $"FROM transactions WHERE txn_id > @above AND txn_id <= @upTo AND customer_id IS NOT NULL{filter} GROUP BY bucket", connection) { CommandTimeout = 600 };
        command.Parameters.AddWithValue("@above", above);
        command.Parameters.AddWithValue("@upTo", upTo);
        var result = new Dictionary<int, BucketFingerprint>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            result[Convert.ToInt32(reader.GetValue(0), CultureInfo.InvariantCulture)] = new BucketFingerprint(
                reader.GetInt64(1), reader.GetDecimal(2), reader.GetInt64(3), reader.GetDecimal(4), reader.GetDecimal(5), reader.GetDecimal(6), unchecked((long)reader.GetUInt64(7)));
        }
        return result;
    }
}

/// <summary>
/// What the profile table was computed from: each bucket's fingerprint over the rows with txn_id &lt;= <see cref="UpTo"/>.
/// Kept in Cassandra beside the profiles (<c>&lt;table&gt;_reconcile</c>).
/// </summary>
public sealed record ProfileFingerprintState(long UpTo, Dictionary<int, BucketFingerprint> Buckets);
