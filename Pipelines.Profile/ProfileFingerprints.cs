using System.Globalization;

namespace CustomerData.Pipelines.Profile;

/// <summary>
/// Cheap fingerprint of the transactions of a bucket of customers (customer_id DIV bucket size): count, sums of amount,
/// product_id, customer_id and the timestamps' seconds, max and XOR of txn_id. Every part composes over rows (sum, max,
/// xor), so an incremental cycle adds its new rows' fingerprint to the stored one instead of rescanning the bucket.
/// <see cref="CustomersXor"/> covers the bucket's <c>customers</c> rows (name, email, gender, signup date): a change
/// there alone (no new transaction) also makes the bucket differ. A delta's fingerprint has 0 there, so adding it keeps it.
/// </summary>
public readonly record struct BucketFingerprint(long Count, decimal Amount, long MaxId, decimal ProductSum, decimal CustomerSum, decimal SecondsSum, long IdXor, long CustomersXor = 0)
{
    public BucketFingerprint Add(BucketFingerprint o) =>
        new(Count + o.Count, Amount + o.Amount, Math.Max(MaxId, o.MaxId), ProductSum + o.ProductSum, CustomerSum + o.CustomerSum, SecondsSum + o.SecondsSum, IdXor ^ o.IdXor,
            CustomersXor ^ o.CustomersXor);

    public override string ToString() => string.Join('|',
        Count.ToString(CultureInfo.InvariantCulture), Amount.ToString("0.00", CultureInfo.InvariantCulture), MaxId.ToString(CultureInfo.InvariantCulture),
        ProductSum.ToString(CultureInfo.InvariantCulture), CustomerSum.ToString(CultureInfo.InvariantCulture), SecondsSum.ToString(CultureInfo.InvariantCulture),
        IdXor.ToString(CultureInfo.InvariantCulture), CustomersXor.ToString(CultureInfo.InvariantCulture));

    public static BucketFingerprint? Parse(string? text)
    {
        var p = text?.Split('|');
        // 7 parts: stored before the customers part existed (it then differs once and the bucket is recomputed).
        if (p is not { Length: 7 or 8 }) return null;
        var inv = CultureInfo.InvariantCulture;
        return new BucketFingerprint(long.Parse(p[0], inv), decimal.Parse(p[1], inv), long.Parse(p[2], inv), decimal.Parse(p[3], inv), decimal.Parse(p[4], inv), decimal.Parse(p[5], inv), long.Parse(p[6], inv),
            p.Length == 8 ? long.Parse(p[7], inv) : 0);
    }
}

/// <summary>
/// What the profile table was computed from: each bucket's fingerprint over the rows with txn_id &lt;= <see cref="UpTo"/>.
/// Kept in Cassandra beside the profiles (<c>&lt;table&gt;_reconcile</c>).
/// </summary>
public sealed record ProfileFingerprintState(long UpTo, Dictionary<int, BucketFingerprint> Buckets);
