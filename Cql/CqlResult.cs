using CustomerData.Cql.Protocol;

namespace CustomerData.Cql;

/// <summary>A result column: where it comes from, its name and type.</summary>
public sealed record CqlColumn(string Keyspace, string Table, string Name, CqlType Type);

/// <summary>Column metadata of a Rows result or a prepared statement.</summary>
public sealed class CqlColumnSet
{
    private readonly Dictionary<string, int> _ordinals;

    public CqlColumnSet(IReadOnlyList<CqlColumn> columns)
    {
        Columns = columns;
        _ordinals = new Dictionary<string, int>(columns.Count, StringComparer.OrdinalIgnoreCase);
        for (var i = 0; i < columns.Count; i++) _ordinals.TryAdd(columns[i].Name, i);
    }

    public static readonly CqlColumnSet Empty = new([]);

    public IReadOnlyList<CqlColumn> Columns { get; }
    public int Count => Columns.Count;
    public CqlColumn this[int ordinal] => Columns[ordinal];

    public int GetOrdinal(string name) =>
        _ordinals.TryGetValue(name, out var ordinal)
            ? ordinal
            : throw new KeyNotFoundException($"The result has no column '{name}' (columns: {string.Join(", ", Columns.Select(c => c.Name))}).");

    public bool TryGetOrdinal(string name, out int ordinal) => _ordinals.TryGetValue(name, out ordinal);

    /// <summary>Reads &lt;metadata&gt; of a Rows result (spec 4.2.5.2). Returns flags and paging state.</summary>
    internal static (CqlColumnSet? Columns, byte[]? PagingState, int ColumnCount) ReadRowsMetadata(CqlReader reader)
    {
        var flags = (RowsFlags)reader.ReadInt();
        var count = reader.ReadInt();
        byte[]? pagingState = null;
        if ((flags & RowsFlags.HasMorePages) != 0) pagingState = reader.ReadBytes();
        if ((flags & RowsFlags.NoMetadata) != 0) return (null, pagingState, count);
        return (ReadColumnSpecs(reader, flags, count), pagingState, count);
    }

    internal static CqlColumnSet ReadColumnSpecs(CqlReader reader, RowsFlags flags, int count)
    {
        string keyspace = "", table = "";
        var global = (flags & RowsFlags.GlobalTablesSpec) != 0;
        if (global)
        {
            keyspace = reader.ReadString();
            table = reader.ReadString();
        }
        var columns = new CqlColumn[count];
        for (var i = 0; i < count; i++)
        {
            var ks = global ? keyspace : reader.ReadString();
            var tb = global ? table : reader.ReadString();
            var name = reader.ReadString();
            columns[i] = new CqlColumn(ks, tb, name, CqlType.Read(reader));
        }
        return new CqlColumnSet(columns);
    }

    internal void Write(CqlFrameWriter writer, RowsFlags flags, byte[]? pagingState)
    {
        var global = Count > 0 && Columns.All(c => c.Keyspace == Columns[0].Keyspace && c.Table == Columns[0].Table);
        if (global) flags |= RowsFlags.GlobalTablesSpec;
        if (pagingState is not null) flags |= RowsFlags.HasMorePages;
        writer.WriteInt((int)flags);
        writer.WriteInt(Count);
        if (pagingState is not null) writer.WriteBytes(pagingState);
        if ((flags & RowsFlags.NoMetadata) != 0) return;
        if (global)
        {
            writer.WriteString(Columns[0].Keyspace);
            writer.WriteString(Columns[0].Table);
        }
        foreach (var column in Columns)
        {
            if (!global)
            {
                writer.WriteString(column.Keyspace);
                writer.WriteString(column.Table);
            }
            writer.WriteString(column.Name);
            column.Type.Write(writer);
        }
    }
}

/// <summary>One row; values are decoded on access from the frame body (no copies).</summary>
public sealed class CqlRow
{
    private readonly byte[] _body;
    private readonly int[] _offsets;
    private readonly int[] _lengths;

    internal CqlRow(CqlColumnSet columns, byte[] body, int[] offsets, int[] lengths)
    {
        Columns = columns;
        _body = body;
        _offsets = offsets;
        _lengths = lengths;
    }

    public CqlColumnSet Columns { get; }
    public int FieldCount => _offsets.Length;

    public bool IsNull(int ordinal) => _lengths[ordinal] < 0;
    public bool IsNull(string name) => IsNull(Columns.GetOrdinal(name));

    /// <summary>The raw serialized bytes of a column (null when the value is null).</summary>
    public ReadOnlyMemory<byte>? GetBytes(int ordinal) =>
        _lengths[ordinal] < 0 ? null : _body.AsMemory(_offsets[ordinal], _lengths[ordinal]);

    /// <summary>The decoded value, or null; throws <see cref="CqlUnsupportedTypeException"/> for unsupported column types.</summary>
    public object? GetValue(int ordinal)
    {
        var column = Columns[ordinal];
        if (!column.Type.IsSupported) throw CqlValueCodec.Unsupported(column.Type, column.Name);
        if (_lengths[ordinal] < 0) return null;
        return CqlValueCodec.Decode(column.Type, _body.AsSpan(_offsets[ordinal], _lengths[ordinal]), column.Name);
    }

    public object? GetValue(string name) => GetValue(Columns.GetOrdinal(name));

    /// <summary>Typed access: T may be nullable (int?, string?) to accept null values.</summary>
    public T Get<T>(int ordinal)
    {
        var value = GetValue(ordinal);
        if (value is null)
        {
            if (default(T) is null) return default!;
            throw new CqlValueException($"Column '{Columns[ordinal].Name}' is null; read it as a nullable type.");
        }
        if (value is T typed) return typed;
        var target = Nullable.GetUnderlyingType(typeof(T)) ?? typeof(T);
        object? converted = (value, target) switch
        {
            (DateTimeOffset dto, Type t) when t == typeof(DateTime) => dto.UtcDateTime,
            (DateOnly d, Type t) when t == typeof(DateTime) => d.ToDateTime(TimeOnly.MinValue, DateTimeKind.Utc),
            (int i, Type t) when t == typeof(long) => (long)i,
            _ => null,
        };
        return converted is not null
            ? (T)converted
            : throw new CqlValueException($"Column '{Columns[ordinal].Name}' of CQL type {Columns[ordinal].Type} cannot be read as {typeof(T).Name}.");
    }

    public T Get<T>(string name) => Get<T>(Columns.GetOrdinal(name));

    public int GetInt32(int ordinal) => Typed<int>(ordinal, CqlTypeCode.Int);
    public int GetInt32(string name) => GetInt32(Columns.GetOrdinal(name));
    public long GetInt64(int ordinal) => Typed<long>(ordinal, CqlTypeCode.Bigint);
    public long GetInt64(string name) => GetInt64(Columns.GetOrdinal(name));
    public string GetString(int ordinal) => Typed<string>(ordinal, CqlTypeCode.Varchar);
    public string GetString(string name) => GetString(Columns.GetOrdinal(name));
    public decimal GetDecimal(int ordinal) => Typed<decimal>(ordinal, CqlTypeCode.Decimal);
    public decimal GetDecimal(string name) => GetDecimal(Columns.GetOrdinal(name));
    public double GetDouble(int ordinal) => Typed<double>(ordinal, CqlTypeCode.Double);
    public double GetDouble(string name) => GetDouble(Columns.GetOrdinal(name));
    public bool GetBoolean(int ordinal) => Typed<bool>(ordinal, CqlTypeCode.Boolean);
    public bool GetBoolean(string name) => GetBoolean(Columns.GetOrdinal(name));
    public DateTimeOffset GetTimestamp(int ordinal) => Typed<DateTimeOffset>(ordinal, CqlTypeCode.Timestamp);
    public DateTimeOffset GetTimestamp(string name) => GetTimestamp(Columns.GetOrdinal(name));
    public Guid GetGuid(int ordinal) => Typed<Guid>(ordinal, CqlTypeCode.Uuid);
    public Guid GetGuid(string name) => GetGuid(Columns.GetOrdinal(name));
    public DateOnly GetDate(int ordinal) => Typed<DateOnly>(ordinal, CqlTypeCode.Date);
    public DateOnly GetDate(string name) => GetDate(Columns.GetOrdinal(name));

    private T Typed<T>(int ordinal, CqlTypeCode expected)
    {
        var column = Columns[ordinal];
        var code = column.Type.Code switch
        {
            CqlTypeCode.Ascii => CqlTypeCode.Varchar,
            CqlTypeCode.Counter => CqlTypeCode.Bigint,
            CqlTypeCode.Timeuuid => CqlTypeCode.Uuid,
            var c => c,
        };
        if (code != expected)
            throw new CqlValueException($"Column '{column.Name}' is {column.Type}, not {new CqlType(expected)}.");
        if (_lengths[ordinal] < 0)
            throw new CqlValueException($"Column '{column.Name}' is null; use IsNull or Get<{typeof(T).Name}?>.");
        return (T)CqlValueCodec.Decode(column.Type, _body.AsSpan(_offsets[ordinal], _lengths[ordinal]), column.Name);
    }
}

/// <summary>What a request returned: rows (one page) or the outcome of a write/DDL/USE.</summary>
public sealed class CqlResult
{
    internal CqlResult(CqlResultKind kind, CqlColumnSet columns, IReadOnlyList<CqlRow> rows, byte[]? pagingState, string? keyspace)
    {
        Kind = kind;
        Columns = columns;
        Rows = rows;
        PagingState = pagingState;
        Keyspace = keyspace;
    }

    internal CqlResultKind Kind { get; }
    public CqlColumnSet Columns { get; }
    public IReadOnlyList<CqlRow> Rows { get; }

    /// <summary>Pass back in <see cref="CqlQueryOptions.PagingState"/> to get the next page; null on the last page.</summary>
    public byte[]? PagingState { get; }
    public bool HasMorePages => PagingState is not null;

    /// <summary>Set for USE results and schema changes.</summary>
    public string? Keyspace { get; }

    public CqlRow? FirstOrDefault() => Rows.Count > 0 ? Rows[0] : null;

    internal static CqlResult Read(CqlFrame frame, CqlColumnSet? knownColumns)
    {
        var reader = frame.OpenBody();
        var kind = (CqlResultKind)reader.ReadInt();
        switch (kind)
        {
            case CqlResultKind.Rows:
            {
                var (columns, pagingState, columnCount) = CqlColumnSet.ReadRowsMetadata(reader);
                columns ??= knownColumns ?? throw new CqlProtocolException("Rows result without metadata for a statement whose columns are unknown.");
                if (columns.Count != columnCount)
                    throw new CqlProtocolException($"Rows result has {columnCount} columns, metadata has {columns.Count}.");
                var rowCount = reader.ReadInt();
                var rows = new CqlRow[rowCount];
                for (var r = 0; r < rowCount; r++)
                {
                    var offsets = new int[columnCount];
                    var lengths = new int[columnCount];
                    for (var c = 0; c < columnCount; c++) (offsets[c], lengths[c]) = reader.ReadValueSlice();
                    rows[r] = new CqlRow(columns, frame.Body, offsets, lengths);
                }
                return new CqlResult(kind, columns, rows, pagingState, null);
            }
            case CqlResultKind.SetKeyspace:
                return new CqlResult(kind, CqlColumnSet.Empty, [], null, reader.ReadString());
            case CqlResultKind.SchemaChange:
            {
                reader.ReadString(); // change type
                reader.ReadString(); // target
                var keyspace = reader.ReadString();
                return new CqlResult(kind, CqlColumnSet.Empty, [], null, keyspace);
            }
            default:
                return new CqlResult(kind, CqlColumnSet.Empty, [], null, null);
        }
    }
}
