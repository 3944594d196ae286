using System.Collections;
using System.Data.Common;

namespace CustomerData.Producer.Seeding;

/// <summary>
/// Streams generated rows to <see cref="MySqlConnector.MySqlBulkCopy"/> as a forward-only data reader,
/// so a chunk is generated while it is being sent and never held in memory as a table.
/// </summary>
internal sealed class RowReader<T>(IEnumerable<T> rows, string[] names, Type[] types, Action<T, object?[]> fill) : DbDataReader
{
    private readonly IEnumerator<T> _rows = rows.GetEnumerator();
    private readonly object?[] _values = new object?[names.Length];
    private bool _closed;

    public long RowsRead { get; private set; }

    public override bool Read()
    {
        if (!_rows.MoveNext()) return false;
        fill(_rows.Current, _values);
        RowsRead++;
        return true;
    }

    public override int FieldCount => names.Length;
    public override object GetValue(int ordinal) => _values[ordinal] ?? DBNull.Value;
    public override int GetValues(object[] values)
    {
        var n = Math.Min(values.Length, _values.Length);
        for (var i = 0; i < n; i++) values[i] = _values[i] ?? DBNull.Value;
        return n;
    }
    public override bool IsDBNull(int ordinal) => _values[ordinal] is null;
    public override string GetName(int ordinal) => names[ordinal];
    public override int GetOrdinal(string name) => Array.IndexOf(names, name);
    public override Type GetFieldType(int ordinal) => types[ordinal];
    public override string GetDataTypeName(int ordinal) => types[ordinal].Name;
    public override object this[int ordinal] => GetValue(ordinal);
    public override object this[string name] => GetValue(GetOrdinal(name));
    public override bool GetBoolean(int ordinal) => (bool)GetValue(ordinal);
    public override byte GetByte(int ordinal) => (byte)GetValue(ordinal);
    public override char GetChar(int ordinal) => (char)GetValue(ordinal);
    public override DateTime GetDateTime(int ordinal) => (DateTime)GetValue(ordinal);
    public override decimal GetDecimal(int ordinal) => (decimal)GetValue(ordinal);
    public override double GetDouble(int ordinal) => (double)GetValue(ordinal);
    public override float GetFloat(int ordinal) => (float)GetValue(ordinal);
    public override Guid GetGuid(int ordinal) => (Guid)GetValue(ordinal);
    public override short GetInt16(int ordinal) => (short)GetValue(ordinal);
    public override int GetInt32(int ordinal) => (int)GetValue(ordinal);
    public override long GetInt64(int ordinal) => (long)GetValue(ordinal);
    public override string GetString(int ordinal) => (string)GetValue(ordinal);
    public override long GetBytes(int ordinal, long dataOffset, byte[]? buffer, int bufferOffset, int length) => throw new NotSupportedException();
    public override long GetChars(int ordinal, long dataOffset, char[]? buffer, int bufferOffset, int length) => throw new NotSupportedException();
    public override int Depth => 0;
    public override bool HasRows => true;
    public override bool IsClosed => _closed;
    public override int RecordsAffected => -1;
    public override bool NextResult() => false;
    public override IEnumerator GetEnumerator() => throw new NotSupportedException();
    public override void Close()
    {
        _closed = true;
        _rows.Dispose();
    }
}

internal static class SeedRowReaders
{
    public static readonly string[] CustomerColumns = ["customer_id", "name", "email", "gender", "signup_date"];
    public static readonly string[] ProductColumns = ["product_id", "name", "category", "price"];
    public static readonly string[] TransactionColumns = ["txn_id", "customer_id", "product_id", "qty", "amount", "txn_timestamp"];

    public static RowReader<CustomerRow> Customers(IEnumerable<CustomerRow> rows) => new(rows, CustomerColumns,
        [typeof(int), typeof(string), typeof(string), typeof(string), typeof(DateTime)],
        static (r, v) =>
        {
            v[0] = r.CustomerId; v[1] = r.Name; v[2] = r.Email; v[3] = r.Gender.ToString(); v[4] = r.SignupDate.ToDateTime(TimeOnly.MinValue);
        });

    public static RowReader<ProductRow> Products(IEnumerable<ProductRow> rows) => new(rows, ProductColumns,
        [typeof(int), typeof(string), typeof(string), typeof(decimal)],
        static (r, v) =>
        {
            v[0] = r.ProductId; v[1] = r.Name; v[2] = r.Category; v[3] = r.Price;
        });

    public static RowReader<TransactionRow> Transactions(IEnumerable<TransactionRow> rows) => new(rows, TransactionColumns,
        [typeof(long), typeof(int), typeof(int), typeof(int), typeof(decimal), typeof(DateTime)],
        static (r, v) =>
        {
            v[0] = r.TxnId; v[1] = r.CustomerId; v[2] = r.ProductId; v[3] = r.Qty; v[4] = r.Amount; v[5] = r.Timestamp;
        });
}
