namespace CustomerData.Producer.Seeding;

public readonly record struct CustomerRow(int CustomerId, string Name, string Email, char Gender, DateOnly SignupDate);

public readonly record struct ProductRow(int ProductId, string Name, string? Category, decimal Price);

public readonly record struct TransactionRow(long TxnId, int CustomerId, int ProductId, int Qty, decimal Amount, DateTime Timestamp);

/// <summary>
/// Deterministic, seekable generator of the seed data. Transactions are drawn in fixed blocks of
/// <see cref="Block"/> rows, each with its own random stream, so any block can be (re)generated
/// alone: that is what makes a stopped seed resumable with identical results.
/// </summary>
public sealed class SourceDataGenerator
{
    public const int Block = 10_000;

    /// <summary>The categories of SPEC section 2 plus a few more; every 100th product has none (counts as "Unknown" downstream).</summary>
    public static readonly string[] Categories =
        ["Electronics", "Grocery", "Sports", "Toys", "Health", "Beauty", "Home", "Books", "Clothing", "Garden"];

    private static readonly string[][] s_nouns =
    [
        ["Headphones", "Charger", "Speaker", "Monitor", "Keyboard", "Mouse", "Camera", "Tablet"],
        ["Coffee", "Rice", "Olive Oil", "Tea", "Pasta", "Honey", "Cereal", "Chocolate"],
        ["Football", "Yoga Mat", "Dumbbell", "Tennis Racket", "Running Shoes", "Bike Helmet", "Jump Rope", "Water Bottle"],
        ["Puzzle", "Building Blocks", "Doll", "Toy Car", "Board Game", "Kite", "Plush Bear", "Train Set"],
        ["Vitamins", "Thermometer", "First Aid Kit", "Protein Powder", "Face Masks", "Hand Sanitizer", "Bandages", "Massager"],
        ["Shampoo", "Lipstick", "Moisturizer", "Perfume", "Nail Polish", "Face Wash", "Hair Dryer", "Sunscreen"],
        ["Lamp", "Cushion", "Blanket", "Cookware Set", "Vase", "Towel Set", "Storage Box", "Wall Clock"],
        ["Novel", "Cookbook", "Atlas", "Biography", "Comic", "Dictionary", "Travel Guide", "Poetry Collection"],
        ["T-Shirt", "Jeans", "Jacket", "Sneakers", "Scarf", "Dress", "Hoodie", "Socks"],
        ["Garden Hose", "Plant Pot", "Seeds Pack", "Shovel", "Lawn Chair", "Bird Feeder", "Pruning Shears", "Fertilizer"],
    ];

    private static readonly (decimal Min, decimal Max)[] s_priceRanges =
    [
        (19.99m, 1499.99m), (1.49m, 39.99m), (9.99m, 349.99m), (4.99m, 129.99m), (3.99m, 89.99m),
        (2.99m, 119.99m), (7.99m, 399.99m), (5.99m, 59.99m), (6.99m, 199.99m), (3.49m, 249.99m),
    ];

    private static readonly string[] s_brands = ["Acme", "Nova", "Zenith", "Orbit", "Pioneer", "Summit", "Vertex", "Harbor"];

    private readonly SeedPlan _plan;
    private readonly ProductRow[] _products;
    private readonly int[][] _productsByCategory;
    private readonly long _historyStartTicks;
    private readonly double _slotTicks;

    public SourceDataGenerator(SeedPlan plan)
    {
        plan.Validate();
        _plan = plan;
        _products = GenerateProducts();
        _productsByCategory = Categories
            .Select(c => _products.Where(p => p.Category == c).Select(p => p.ProductId).ToArray())
            .ToArray();
        _historyStartTicks = plan.HistoryStart.ToDateTime(TimeOnly.MinValue, DateTimeKind.Utc).Ticks;
        var spanTicks = plan.HistoryEnd.ToDateTime(TimeOnly.MinValue, DateTimeKind.Utc).Ticks - _historyStartTicks;
        _slotTicks = plan.Transactions == 0 ? 0 : (double)spanTicks / plan.Transactions;
    }

    public SeedPlan Plan => _plan;

    public IReadOnlyList<ProductRow> Products => _products;

    public IEnumerable<CustomerRow> Customers()
    {
        var random = new Random(Mix(_plan.Seed, -1));
        var signupStart = new DateOnly(2018, 1, 1).DayNumber;
        var signupDays = Math.Max(1, _plan.HistoryEnd.DayNumber - signupStart);
        for (var id = 1; id <= _plan.Customers; id++)
        {
            var g = random.Next(100);
            var gender = g < 48 ? 'M' : g < 96 ? 'F' : 'O';
            var signup = DateOnly.FromDayNumber(signupStart + random.Next(signupDays));
            yield return new CustomerRow(id, $"customer_{id}", $"customer_{id}@example.com", gender, signup);
        }
    }

    private ProductRow[] GenerateProducts()
    {
        var random = new Random(Mix(_plan.Seed, -2));
        var rows = new ProductRow[_plan.Products];
        for (var i = 0; i < rows.Length; i++)
        {
            var id = i + 1;
            var c = i % Categories.Length;
            var nouns = s_nouns[c];
            var name = $"{s_brands[random.Next(s_brands.Length)]} {nouns[random.Next(nouns.Length)]} {id}";
            var (min, max) = s_priceRanges[c];
            var price = Math.Round(min + (max - min) * (decimal)random.NextDouble(), 2, MidpointRounding.AwayFromZero);
            rows[i] = new ProductRow(id, name, id % 100 == 0 ? null : Categories[c], price);
        }
        return rows;
    }

    /// <summary>Transactions with txn_id in [<paramref name="firstTxnId"/>, <paramref name="lastTxnId"/>]; the first must start a block.</summary>
    public IEnumerable<TransactionRow> Transactions(long firstTxnId, long lastTxnId)
    {
        if ((firstTxnId - 1) % Block != 0) throw new ArgumentException($"Transactions are generated in blocks of {Block}; {firstTxnId} does not start one.");
        lastTxnId = Math.Min(lastTxnId, _plan.Transactions);
        Random? random = null;
        for (var txnId = firstTxnId; txnId <= lastTxnId; txnId++)
        {
            if ((txnId - 1) % Block == 0) random = new Random(Mix(_plan.Seed, (int)((txnId - 1) / Block)));
            yield return NextTransaction(random!, txnId);
        }
    }

    private TransactionRow NextTransaction(Random random, long txnId)
    {
        // Time grows with txn_id (one slot per transaction, jittered inside it), as in a real append-only table.
        var ticks = _historyStartTicks + (long)(((txnId - 1) + random.NextDouble()) * _slotTicks);
        var timestamp = new DateTime(ticks - ticks % TimeSpan.TicksPerSecond, DateTimeKind.Utc);
        var customerId = 1 + random.Next(_plan.Customers);
        // Most purchases fall in the customer's own preferred category, so favourite categories mean something.
        int productId;
        var preferred = _productsByCategory[customerId % Categories.Length];
        if (preferred.Length > 0 && random.Next(100) < 60)
        {
            productId = preferred[random.Next(preferred.Length)];
        }
        else
        {
            productId = 1 + random.Next(_products.Length);
        }
        var q = random.Next(20);
        var qty = q < 12 ? 1 : q < 16 ? 2 : q < 18 ? 3 : q < 19 ? 4 : 5;
        return new TransactionRow(txnId, customerId, productId, qty, qty * _products[productId - 1].Price, timestamp);
    }

    /// <summary>A stable mix of the seed and a stream number (HashCode.Combine is randomised per process).</summary>
    internal static int Mix(int seed, int stream) => unchecked((int)(((uint)seed * 2654435761u) ^ ((uint)stream * 40503u + 0x9E3779B9u)));
}
