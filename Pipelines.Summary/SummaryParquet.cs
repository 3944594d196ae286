using Parquet;
using Parquet.Schema;

namespace CustomerData.Pipelines.Summary;

/// <summary>What a summary file holds, as read back from the lake.</summary>
public sealed record SummaryFileContent(int[] CustomerIds, double[] TotalAmounts, int[] TotalItems, int[] DistinctProducts, string[] TopCategories)
{
    public int RowCount => CustomerIds.Length;
}

/// <summary>Thrown when a file read back from the lake is not what was written.</summary>
public sealed class LakeVerificationException(string message) : Exception(message);

/// <summary>
/// The fixed Parquet schemas of the summary lake (SPEC section 4) and its rejects report.
/// One row group per file: a day holds at most a few thousand customers.
/// </summary>
public static class SummaryParquet
{
    public static readonly DataField<int> CustomerId = new("customer_id", nullable: false);
    public static readonly DataField<double> TotalAmount = new("total_amount", nullable: false);
    public static readonly DataField<int> TotalItems = new("total_items", nullable: false);
    public static readonly DataField<int> DistinctProducts = new("distinct_products", nullable: false);
    public static readonly DataField<string> TopCategory = new("top_category", nullable: false);
    public static readonly ParquetSchema Schema = new(CustomerId, TotalAmount, TotalItems, DistinctProducts, TopCategory);

    public static readonly DataField<long> RejectTxnId = new("txn_id", nullable: false);
    public static readonly DataField<int> RejectCustomerId = new("customer_id", nullable: true);
    public static readonly DataField<int> RejectProductId = new("product_id", nullable: true);
    public static readonly DataField<int> RejectQty = new("qty", nullable: true);
    /// <summary>The stored DECIMAL as text, exact.</summary>
    public static readonly DataField<string> RejectAmount = new("amount", nullable: true);
    /// <summary>The stored TIMESTAMP as MySQL prints it (the zero timestamp has no other form).</summary>
    public static readonly DataField<string> RejectTimestamp = new("txn_timestamp", nullable: true);
    public static readonly DataField<string> RejectReason = new("reason", nullable: false);
    public static readonly ParquetSchema RejectsSchema = new(RejectTxnId, RejectCustomerId, RejectProductId, RejectQty, RejectAmount, RejectTimestamp, RejectReason);

    /// <summary>The day's file; <paramref name="rows"/> must be sorted by customer_id.</summary>
    public static async Task<byte[]> WriteAsync(IReadOnlyList<DailySummary> rows, CompressionMethod compression, CancellationToken cancellationToken = default)
    {
        var ids = new int[rows.Count];
        var amounts = new double[rows.Count];
        var items = new int[rows.Count];
        var distinct = new int[rows.Count];
        var categories = new string[rows.Count];
        for (var i = 0; i < rows.Count; i++)
        {
            var r = rows[i];
            ids[i] = r.CustomerId;
            amounts[i] = (double)r.TotalAmount; // the exact decimal sum, rounded once to DOUBLE as SPEC §4 asks
            items[i] = r.TotalItems;
            distinct[i] = r.DistinctProducts;
            categories[i] = r.TopCategory;
        }
        using var stream = new MemoryStream();
        await using (var writer = await ParquetWriter.CreateAsync(Schema, stream, new ParquetOptions { CompressionMethod = compression }, cancellationToken: cancellationToken))
        {
            using var group = writer.CreateRowGroup();
            await group.WriteAsync<int>(CustomerId, ids, cancellationToken: cancellationToken);
            await group.WriteAsync<double>(TotalAmount, amounts, cancellationToken: cancellationToken);
            await group.WriteAsync<int>(TotalItems, items, cancellationToken: cancellationToken);
            await group.WriteAsync<int>(DistinctProducts, distinct, cancellationToken: cancellationToken);
            await group.WriteAsync(TopCategory, categories, null);
        }
        return stream.ToArray();
    }

    public static async Task<SummaryFileContent> ReadAsync(byte[] file, CancellationToken cancellationToken = default)
    {
        using var stream = new MemoryStream(file, writable: false);
        await using var reader = await ParquetReader.CreateAsync(stream, cancellationToken: cancellationToken);
        if (!reader.Schema.Equals(Schema))
        {
            throw new LakeVerificationException($"Summary file schema differs: {reader.Schema.GetNotEqualsMessage(Schema, "file", "expected")}");
        }
        var ids = new List<int>(); var amounts = new List<double>(); var items = new List<int>(); var distinct = new List<int>(); var categories = new List<string>();
        for (var g = 0; g < reader.RowGroupCount; g++)
        {
            using var group = reader.OpenRowGroupReader(g);
            var n = checked((int)group.RowCount);
            ids.AddRange(await ReadColumnAsync<int>(group, CustomerId, n, cancellationToken));
            amounts.AddRange(await ReadColumnAsync<double>(group, TotalAmount, n, cancellationToken));
            items.AddRange(await ReadColumnAsync<int>(group, TotalItems, n, cancellationToken));
            distinct.AddRange(await ReadColumnAsync<int>(group, DistinctProducts, n, cancellationToken));
            var names = new string[n];
            await group.ReadAsync(TopCategory, names, null, cancellationToken);
            categories.AddRange(names);
        }
        return new SummaryFileContent([.. ids], [.. amounts], [.. items], [.. distinct], [.. categories]);
    }

    private static async Task<T[]> ReadColumnAsync<T>(ParquetRowGroupReader group, DataField field, int count, CancellationToken cancellationToken)
        where T : struct
    {
        var values = new T[count];
        await group.ReadAsync<T>(field, values, cancellationToken: cancellationToken);
        return values;
    }

    /// <summary>
    /// Proves the file read back from the lake is the one written: valid Parquet, fixed schema,
    /// same row count and totals, customers strictly ascending, no negative or zero totals.
    /// </summary>
    public static void Verify(SummaryFileContent read, IReadOnlyList<DailySummary> expected, string key)
    {
        if (read.RowCount != expected.Count)
        {
            throw new LakeVerificationException($"{key}: read back {read.RowCount} rows, wrote {expected.Count}.");
        }
        double amountRead = 0, amountWritten = 0;
        long itemsRead = 0, itemsWritten = 0, distinctRead = 0, distinctWritten = 0;
        for (var i = 0; i < read.RowCount; i++)
        {
            if (i > 0 && read.CustomerIds[i] <= read.CustomerIds[i - 1])
            {
                throw new LakeVerificationException($"{key}: customer_id not strictly ascending at row {i}.");
            }
            if (read.TotalAmounts[i] <= 0 || read.TotalItems[i] <= 0 || read.DistinctProducts[i] <= 0)
            {
                throw new LakeVerificationException($"{key}: row {i} (customer {read.CustomerIds[i]}) has a total that is not positive.");
            }
            amountRead += read.TotalAmounts[i];
            amountWritten += (double)expected[i].TotalAmount;
            itemsRead += read.TotalItems[i];
            itemsWritten += expected[i].TotalItems;
            distinctRead += read.DistinctProducts[i];
            distinctWritten += expected[i].DistinctProducts;
        }
        if (amountRead != amountWritten || itemsRead != itemsWritten || distinctRead != distinctWritten)
        {
            throw new LakeVerificationException(
                $"{key}: totals read back (amount {amountRead}, items {itemsRead}, distinct {distinctRead}) differ from those written ({amountWritten}, {itemsWritten}, {distinctWritten}).");
        }
    }

    public static async Task<byte[]> WriteRejectsAsync(IReadOnlyList<RejectedTxn> rows, CompressionMethod compression, CancellationToken cancellationToken = default)
    {
        using var stream = new MemoryStream();
        await using (var writer = await ParquetWriter.CreateAsync(RejectsSchema, stream, new ParquetOptions { CompressionMethod = compression }, cancellationToken: cancellationToken))
        {
            using var group = writer.CreateRowGroup();
            await group.WriteAsync<long>(RejectTxnId, rows.Select(r => r.TxnId).ToArray(), cancellationToken: cancellationToken);
            await group.WriteAsync<int>(RejectCustomerId, rows.Select(r => r.CustomerId).ToArray(), cancellationToken: cancellationToken);
            await group.WriteAsync<int>(RejectProductId, rows.Select(r => r.ProductId).ToArray(), cancellationToken: cancellationToken);
            await group.WriteAsync<int>(RejectQty, rows.Select(r => r.Qty).ToArray(), cancellationToken: cancellationToken);
            await group.WriteAsync(RejectAmount, rows.Select(r => r.Amount?.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToArray()!, null);
            await group.WriteAsync(RejectTimestamp, rows.Select(r => r.TxnTimestamp).ToArray()!, null);
            await group.WriteAsync(RejectReason, rows.Select(r => r.Reason).ToArray(), null);
        }
        return stream.ToArray();
    }

    /// <summary>The txn_ids of a rejects file read back (to check it is valid Parquet and complete).</summary>
    public static async Task<long[]> ReadRejectIdsAsync(byte[] file, CancellationToken cancellationToken = default)
    {
        using var stream = new MemoryStream(file, writable: false);
        await using var reader = await ParquetReader.CreateAsync(stream, cancellationToken: cancellationToken);
        var ids = new List<long>();
        for (var g = 0; g < reader.RowGroupCount; g++)
        {
            using var group = reader.OpenRowGroupReader(g);
            ids.AddRange(await ReadColumnAsync<long>(group, RejectTxnId, checked((int)group.RowCount), cancellationToken));
        }
        return [.. ids];
    }
}
