using System.Globalization;

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
}

/// <summary>
/// What the profile table was computed from: each bucket's fingerprint over the rows with txn_id &lt;= <see cref="UpTo"/>.
/// Kept in Cassandra beside the profiles (<c>&lt;table&gt;_reconcile</c>).
/// </summary>
public sealed record ProfileFingerprintState(long UpTo, Dictionary<int, BucketFingerprint> Buckets);
