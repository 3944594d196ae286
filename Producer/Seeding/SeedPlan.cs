namespace CustomerData.Producer.Seeding;

/// <summary>
/// Everything that determines the seeded data. The same plan always produces the same rows,
/// whatever the load method, chunk size or number of restarts.
/// </summary>
public sealed record SeedPlan(int Seed, int Customers, int Products, long Transactions, DateOnly HistoryStart, DateOnly HistoryEnd)
{
    public static SeedPlan From(ProducerOptions options, TimeProvider time) => new(
        options.Seed, options.Customers, options.Products, options.Transactions,
        options.HistoryStart, options.EffectiveHistoryEnd(time));

    public void Validate()
    {
        if (Customers < 1) throw new ArgumentException("The seed needs at least one customer.");
        if (Products < 1) throw new ArgumentException("The seed needs at least one product.");
        if (Transactions < 0) throw new ArgumentException("The number of transactions cannot be negative.");
        if (HistoryEnd <= HistoryStart) throw new ArgumentException($"The history end {HistoryEnd:yyyy-MM-dd} must be after its start {HistoryStart:yyyy-MM-dd}.");
    }

    public override string ToString() =>
        $"seed {Seed}: {Customers} customers, {Products} products, {Transactions} transactions from {HistoryStart:yyyy-MM-dd} to {HistoryEnd:yyyy-MM-dd}";
}
