namespace CustomerData.Pipelines.Profile;

/// <summary>One row of Cassandra <c>customer_profile</c> (SPEC section 4).</summary>
public sealed record CustomerProfile(
    int CustomerId,
    string Name,
    string Email,
    string Gender,
    decimal TotalSpend,
    int TotalTransactions,
    decimal AvgOrderValue,
    DateTimeOffset? FirstPurchase,
    DateTimeOffset? LastPurchase,
    string FavoriteCategory);

/// <summary>A row of MySQL <c>customers</c> as read, before the checks.</summary>
public sealed record CustomerRecord(int? CustomerId, string? Name, string? Email, string? Gender, string? SignupDate);

/// <summary>
/// One customer's transactions folded together. The SQL aggregation returns partial groups
/// (per customer and category, and per txn_id range during a rebuild); every part merges
/// exactly, so the fold order never changes the result.
/// </summary>
public sealed class ProfileAggregate
{
    /// <summary>Category of a transaction whose product is missing or has no category (SPEC section 9).</summary>
    public const string UnknownCategory = TopCategory.Unknown;

    private readonly Dictionary<string, long> _transactionsByCategory = new(StringComparer.Ordinal);

    public long Transactions { get; private set; }
    public decimal Spend { get; private set; }
    public DateTime? FirstPurchaseUtc { get; private set; }
    public DateTime? LastPurchaseUtc { get; private set; }
    public long NullAmounts { get; private set; }
    public long NullTimestamps { get; private set; }
    public long MissingProducts { get; private set; }

    public void Add(string category, long transactions, decimal spend, DateTime? first, DateTime? last,
        long nullAmounts, long nullTimestamps, long missingProducts)
    {
        Transactions += transactions;
        Spend += spend;
        if (first is { } f && (FirstPurchaseUtc is null || f < FirstPurchaseUtc)) FirstPurchaseUtc = f;
        if (last is { } l && (LastPurchaseUtc is null || l > LastPurchaseUtc)) LastPurchaseUtc = l;
        NullAmounts += nullAmounts;
        NullTimestamps += nullTimestamps;
        MissingProducts += missingProducts;
        _transactionsByCategory[category] = _transactionsByCategory.GetValueOrDefault(category) + transactions;
    }

    public void Merge(ProfileAggregate other)
    {
        Transactions += other.Transactions;
        Spend += other.Spend;
        if (other.FirstPurchaseUtc is { } f && (FirstPurchaseUtc is null || f < FirstPurchaseUtc)) FirstPurchaseUtc = f;
        if (other.LastPurchaseUtc is { } l && (LastPurchaseUtc is null || l > LastPurchaseUtc)) LastPurchaseUtc = l;
        NullAmounts += other.NullAmounts;
        NullTimestamps += other.NullTimestamps;
        MissingProducts += other.MissingProducts;
        foreach (var (category, count) in other._transactionsByCategory)
        {
            _transactionsByCategory[category] = _transactionsByCategory.GetValueOrDefault(category) + count;
        }
    }

    /// <summary>Sets first/last purchase from a re-read that left out zero TIMESTAMPs, which count as missing.</summary>
    public void ReplaceTimestamps(DateTime? first, DateTime? last, long zeroTimestamps)
    {
        FirstPurchaseUtc = first;
        LastPurchaseUtc = last;
        NullTimestamps += zeroTimestamps;
    }

    /// <summary>The category with the most transactions; a tie goes to the ordinal-first name.</summary>
    public string FavoriteCategory()
    {
        string? best = null;
        long bestCount = -1;
        foreach (var (category, count) in _transactionsByCategory)
        {
            if (TopCategory.Beats(category, count, best, bestCount))
            {
                best = category;
                bestCount = count;
            }
        }
        return best ?? UnknownCategory;
    }

    /// <summary>total_spend / total_transactions, rounded half away from zero to 2 decimals.</summary>
    public static decimal AverageOrderValue(decimal totalSpend, long transactions) =>
        transactions == 0 ? 0m : Math.Round(totalSpend / transactions, 2, MidpointRounding.AwayFromZero);

    public CustomerProfile ToProfile(int customerId, string name, string email, string gender) => new(
        customerId, name, email, gender,
        Spend,
        checked((int)Transactions),
        AverageOrderValue(Spend, Transactions),
        FirstPurchaseUtc is { } f ? new DateTimeOffset(DateTime.SpecifyKind(f, DateTimeKind.Utc)) : null,
        LastPurchaseUtc is { } l ? new DateTimeOffset(DateTime.SpecifyKind(l, DateTimeKind.Utc)) : null,
        FavoriteCategory());
}
