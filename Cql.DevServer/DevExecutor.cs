using System.Buffers.Binary;
using System.Globalization;
using System.Net;
using System.Numerics;
using System.Text;
using CustomerData.Cql.Protocol;

namespace CustomerData.Cql.DevServer;

internal abstract record ExecResult;
internal sealed record VoidResult : ExecResult
{
    public static readonly VoidResult Instance = new();
}
internal sealed record SetKeyspaceResult(string Keyspace) : ExecResult;
internal sealed record SchemaChangeResult(string Change, string Target, string Keyspace, string? Name) : ExecResult;
internal sealed record RowsResult(CqlColumnSet Columns, List<byte[]?[]> Rows, byte[]? PagingState) : ExecResult;

/// <summary>What a bind marker refers to, for PREPARE metadata.</summary>
internal sealed record PreparedShape(CqlColumnSet Variables, CqlColumnSet ResultColumns, int[] PartitionKeyIndexes);

/// <summary>Runs parsed statements against the catalog.</summary>
internal sealed class DevExecutor(DevCatalog catalog)
{
    /// <summary>Marks an unset bound value (protocol v4 [value] length -2).</summary>
    public static readonly byte[] Unset = new byte[1];

    public DevCatalog Catalog => catalog;

    public DevTable ResolveTable(TableName name, string? keyspace)
    {
        var ks = name.Keyspace ?? keyspace ?? throw DevCqlError.Invalid("No keyspace has been specified. USE a keyspace, or explicitly specify keyspace.tablename");
        if (catalog.FindKeyspace(ks) is null) throw DevCqlError.Invalid($"Keyspace {ks} does not exist");
        return catalog.FindTable(ks, name.Name) ?? throw DevCqlError.Invalid($"unconfigured table {name.Name}");
    }

    public static TableName? TargetTable(Statement statement) => statement switch
    {
        InsertStatement s => s.Table,
        UpdateStatement s => s.Table,
        DeleteStatement s => s.Table,
        SelectStatement s => s.Table,
        _ => null,
    };

    public PreparedShape Shape(Statement statement, string? keyspace)
    {
        var variables = new CqlColumn[statement.BindCount];
        var result = CqlColumnSet.Empty;
        var table = TargetTable(statement) is { } name ? ResolveTable(name, keyspace) : null;
        void Bind(Term term, string column)
        {
            if (term is BindTerm bind)
            {
                var def = table!.Columns[table.Ordinal(column)];
                variables[bind.Index] = new CqlColumn(table.Keyspace, table.Name, def.Name, def.Type);
            }
        }
        switch (statement)
        {
            case InsertStatement insert:
                for (var i = 0; i < insert.Columns.Count; i++) Bind(insert.Values[i], insert.Columns[i]);
                break;
            case UpdateStatement update:
                foreach (var c in update.Assignments.Concat(update.Where)) Bind(c.Value, c.Column);
                break;
            case DeleteStatement delete:
                foreach (var c in delete.Where) Bind(c.Value, c.Column);
                break;
            case SelectStatement select:
                foreach (var c in select.Where) Bind(c.Value, c.Column);
                if (select.Limit is BindTerm limit) variables[limit.Index] = new CqlColumn(table!.Keyspace, table.Name, "[limit]", CqlType.Int);
                result = SelectColumns(table!, select).Columns;
                break;
        }
        for (var i = 0; i < variables.Length; i++)
        {
            if (variables[i] is null) throw DevCqlError.Invalid($"Bind marker {i} is in a position the CQL dev server cannot type");
        }
        var pkIndexes = table is null ? [] : table.PartitionKey
            .Select(ordinal => Array.FindIndex(variables, v => v.Name == table.Columns[ordinal].Name))
            .ToArray();
        if (pkIndexes.Any(i => i < 0)) pkIndexes = [];
        return new PreparedShape(new CqlColumnSet(variables), result, pkIndexes);
    }

    public ExecResult Execute(Statement statement, ref string? keyspace, byte[]?[] values, int pageSize, byte[]? pagingState)
    {
        if (values.Length < statement.BindCount)
            throw DevCqlError.Invalid($"There were {statement.BindCount} markers(?) in CQL but {values.Length} bound variables");
        switch (statement)
        {
            case UseStatement use:
                if (catalog.FindKeyspace(use.Keyspace) is null) throw DevCqlError.Invalid($"Keyspace '{use.Keyspace}' does not exist");
                keyspace = use.Keyspace;
                return new SetKeyspaceResult(use.Keyspace);
            case CreateKeyspaceStatement create:
                if (catalog.CreateKeyspace(create.Keyspace)) return new SchemaChangeResult("CREATED", "KEYSPACE", create.Keyspace, null);
                if (create.IfNotExists) return VoidResult.Instance;
                throw new DevAlreadyExists(create.Keyspace, "", $"Cannot add existing keyspace \"{create.Keyspace}\"");
            case CreateTableStatement create:
            {
                var ks = create.Table.Keyspace ?? keyspace ?? throw DevCqlError.Invalid("No keyspace has been specified. USE a keyspace, or explicitly specify keyspace.tablename");
                if (catalog.FindKeyspace(ks) is null) throw DevCqlError.Invalid($"Keyspace {ks} doesn't exist");
                var columns = create.Columns.Select(c => new DevColumn(c.Name, ParseType(c.Type), c.Type)).ToList();
                if (catalog.AddTable(new DevTable(ks, create.Table.Name, columns, create.PartitionKey, create.Clustering)))
                    return new SchemaChangeResult("CREATED", "TABLE", ks, create.Table.Name);
                if (create.IfNotExists) return VoidResult.Instance;
                throw new DevAlreadyExists(ks, create.Table.Name, $"Cannot add already existing table \"{create.Table.Name}\" to keyspace \"{ks}\"");
            }
            case DropStatement drop when drop.IsKeyspace:
                if (catalog.DropKeyspace(drop.Name.Name)) return new SchemaChangeResult("DROPPED", "KEYSPACE", drop.Name.Name, null);
                if (drop.IfExists) return VoidResult.Instance;
                throw DevCqlError.Invalid($"Cannot drop non existing keyspace '{drop.Name.Name}'.");
            case DropStatement drop:
            {
                var ks = drop.Name.Keyspace ?? keyspace ?? throw DevCqlError.Invalid("No keyspace has been specified.");
                if (catalog.DropTable(ks, drop.Name.Name)) return new SchemaChangeResult("DROPPED", "TABLE", ks, drop.Name.Name);
                if (drop.IfExists) return VoidResult.Instance;
                throw DevCqlError.Invalid($"Table '{ks}.{drop.Name.Name}' doesn't exist");
            }
            case TruncateStatement truncate:
            {
                var table = ResolveTable(truncate.Table, keyspace);
                lock (table.Sync) table.Clear();
                catalog.Touch();
                return VoidResult.Instance;
            }
            case InsertStatement insert:
                return Insert(insert, keyspace, values);
            case UpdateStatement update:
                Update(update, keyspace, values);
                return VoidResult.Instance;
            case DeleteStatement delete:
                Delete(delete, keyspace, values);
                return VoidResult.Instance;
            case SelectStatement select:
                return Select(select, keyspace, values, pageSize, pagingState);
            default:
                throw DevCqlError.Invalid($"{statement.GetType().Name} is not supported");
        }
    }

    private static CqlType ParseType(string text)
    {
        try
        {
            return CqlType.Parse(text);
        }
        catch (CqlUnsupportedTypeException ex)
        {
            throw DevCqlError.Invalid(ex.Message);
        }
    }

    private ExecResult Insert(InsertStatement insert, string? keyspace, byte[]?[] values)
    {
        var table = ResolveTable(insert.Table, keyspace);
        var row = new byte[]?[table.Columns.Count];
        var set = new bool[table.Columns.Count];
        for (var i = 0; i < insert.Columns.Count; i++)
        {
            var ordinal = table.Ordinal(insert.Columns[i]);
            var value = Value(insert.Values[i], table.Columns[ordinal], values);
            if (ReferenceEquals(value, Unset)) continue;
            row[ordinal] = value;
            set[ordinal] = true;
        }
        var key = table.EncodeKey(row);
        lock (table.Sync)
        {
            var existing = table.Get(key);
            if (insert.IfNotExists && existing is not null)
            {
                return AppliedResult(table, false);
            }
            if (existing is not null)
            {
                for (var c = 0; c < row.Length; c++)
                {
                    if (!set[c]) row[c] = existing[c];
                }
            }
            table.Put(key, row);
        }
        catalog.Touch();
        return insert.IfNotExists ? AppliedResult(table, true) : VoidResult.Instance;
    }

    private static RowsResult AppliedResult(DevTable table, bool applied) =>
        new(new CqlColumnSet([new CqlColumn(table.Keyspace, table.Name, "[applied]", CqlType.Boolean)]), [[[applied ? (byte)1 : (byte)0]]], null);

    private void Update(UpdateStatement update, string? keyspace, byte[]?[] values)
    {
        var table = ResolveTable(update.Table, keyspace);
        var keyRow = KeyRow(table, update.Where, values, requireFullKey: true);
        var key = table.EncodeKey(keyRow);
        var changes = update.Assignments.Select(a =>
        {
            var ordinal = table.Ordinal(a.Column);
            if (table.PrimaryKey.Contains(ordinal)) throw DevCqlError.Invalid($"PRIMARY KEY part {a.Column} found in SET part");
            return (ordinal, Value: Value(a.Value, table.Columns[ordinal], values));
        }).ToList();
        lock (table.Sync)
        {
            var row = (byte[]?[]?)table.Get(key)?.Clone() ?? keyRow;
            foreach (var (ordinal, value) in changes)
            {
                if (!ReferenceEquals(value, Unset)) row[ordinal] = value;
            }
            table.Put(key, row);
        }
        catalog.Touch();
    }

    private void Delete(DeleteStatement delete, string? keyspace, byte[]?[] values)
    {
        var table = ResolveTable(delete.Table, keyspace);
        var keyRow = KeyRow(table, delete.Where, values, requireFullKey: false);
        var columns = delete.Columns.Select(table.Ordinal).ToArray();
        lock (table.Sync)
        {
            var keys = table.PrimaryKey.All(o => keyRow[o] is not null)
                ? [table.EncodeKey(keyRow)]
                : table.Scan(null).Where(r => table.PartitionKey.All(o => keyRow[o] is null || r.Row[o].AsSpan().SequenceEqual(keyRow[o])))
                    .Select(r => r.Key).ToList();
            foreach (var key in keys)
            {
                if (columns.Length == 0)
                {
                    table.Remove(key);
                    continue;
                }
                if (table.Get(key)?.Clone() is byte[]?[] row)
                {
                    foreach (var ordinal in columns) row[ordinal] = null;
                    table.Put(key, row);
                }
            }
        }
        catalog.Touch();
    }

    /// <summary>A row with only the key columns filled from WHERE equality conditions.</summary>
    private static byte[]?[] KeyRow(DevTable table, List<Condition> where, byte[]?[] values, bool requireFullKey)
    {
        var row = new byte[]?[table.Columns.Count];
        foreach (var condition in where)
        {
            var ordinal = table.Ordinal(condition.Column);
            if (!table.PrimaryKey.Contains(ordinal))
                throw DevCqlError.Invalid($"Non PRIMARY KEY columns found in where clause: {condition.Column}");
            var value = Value(condition.Value, table.Columns[ordinal], values);
            row[ordinal] = ReferenceEquals(value, Unset) ? null : value ?? throw DevCqlError.Invalid($"Invalid null value for {condition.Column}");
        }
        foreach (var ordinal in requireFullKey ? table.PrimaryKey : table.PartitionKey)
        {
            if (row[ordinal] is null) throw DevCqlError.Invalid($"Some partition key parts are missing: {table.Columns[ordinal].Name}");
        }
        return row;
    }

    private static (CqlColumnSet Columns, int[] Ordinals) SelectColumns(DevTable table, SelectStatement select)
    {
        if (select.CountAll)
            return (new CqlColumnSet([new CqlColumn(table.Keyspace, table.Name, "count", CqlType.Bigint)]), []);
        var ordinals = select.Columns is null
            ? Enumerable.Range(0, table.Columns.Count).ToArray()
            : select.Columns.Select(table.Ordinal).ToArray();
        return (new CqlColumnSet([.. ordinals.Select(o => new CqlColumn(table.Keyspace, table.Name, table.Columns[o].Name, table.Columns[o].Type))]), ordinals);
    }

    private RowsResult Select(SelectStatement select, string? keyspace, byte[]?[] values, int pageSize, byte[]? pagingState)
    {
        var table = ResolveTable(select.Table, keyspace);
        var (columns, ordinals) = SelectColumns(table, select);
        var filters = new (int Ordinal, byte[]? Value)[select.Where.Count];
        for (var i = 0; i < filters.Length; i++)
        {
            var ordinal = table.Ordinal(select.Where[i].Column);
            var value = Value(select.Where[i].Value, table.Columns[ordinal], values);
            filters[i] = (ordinal, ReferenceEquals(value, Unset) ? null : value);
        }
        var limit = int.MaxValue;
        if (select.Limit is not null)
        {
            var bytes = Value(select.Limit, new DevColumn("[limit]", CqlType.Int, "int"), values);
            limit = bytes is { Length: 4 } ? BinaryPrimitives.ReadInt32BigEndian(bytes) : throw DevCqlError.Invalid("Invalid LIMIT");
            if (limit <= 0) throw DevCqlError.Invalid("LIMIT must be strictly positive");
        }

        // Paging state: [int rows still allowed by LIMIT][last primary key returned].
        byte[]? afterKey = null;
        if (pagingState is { Length: >= 4 })
        {
            limit = BinaryPrimitives.ReadInt32BigEndian(pagingState);
            afterKey = pagingState[4..];
        }
        var rows = new List<byte[]?[]>();
        byte[]? nextState = null;
        var pageLimit = pageSize > 0 ? Math.Min(pageSize, limit) : limit;

        lock (table.Sync)
        {
            IEnumerable<(byte[] Key, byte[]?[] Row)> candidates;
            if (afterKey is null && CoversPrimaryKey(table, filters))
            {
                var keyRow = new byte[]?[table.Columns.Count];
                foreach (var (ordinal, value) in filters) keyRow[ordinal] ??= value;
                var key = table.EncodeKey(keyRow);
                candidates = table.Get(key) is { } found ? [(key, found)] : [];
            }
            else
            {
                candidates = table.Scan(afterKey);
            }
            if (select.CountAll)
            {
                long count = candidates.LongCount(c => Matches(c.Row, filters));
                var bytes = new byte[8];
                BinaryPrimitives.WriteInt64BigEndian(bytes, count);
                return new RowsResult(columns, [[bytes]], null);
            }
            byte[]? lastKey = null;
            foreach (var (key, row) in candidates)
            {
                if (!Matches(row, filters)) continue;
                if (rows.Count == pageLimit)
                {
                    if (rows.Count < limit)
                    {
                        nextState = new byte[4 + lastKey!.Length];
                        BinaryPrimitives.WriteInt32BigEndian(nextState, limit - rows.Count);
                        lastKey.CopyTo(nextState, 4);
                    }
                    break;
                }
                var projected = new byte[]?[ordinals.Length];
                for (var i = 0; i < ordinals.Length; i++) projected[i] = row[ordinals[i]];
                rows.Add(projected);
                lastKey = key;
            }
        }
        return new RowsResult(columns, rows, nextState);
    }

    private static bool CoversPrimaryKey(DevTable table, (int Ordinal, byte[]? Value)[] filters)
    {
        foreach (var ordinal in table.PrimaryKey)
        {
            var found = false;
            foreach (var filter in filters) found |= filter.Ordinal == ordinal && filter.Value is not null;
            if (!found) return false;
        }
        return true;
    }

    private static bool Matches(byte[]?[] row, (int Ordinal, byte[]? Value)[] filters)
    {
        foreach (var (ordinal, value) in filters)
        {
            if (value is null) return false;
            if (!row[ordinal].AsSpan().SequenceEqual(value) || row[ordinal] is null) return false;
        }
        return true;
    }

    private static byte[]? Value(Term term, DevColumn column, byte[]?[] values) => term switch
    {
        BindTerm bind => Validate(values[bind.Index], column),
        NullTerm => null,
        LiteralTerm literal => Literal(literal.Token, column),
        _ => throw DevCqlError.Invalid("Unsupported term"),
    };

    private static byte[]? Validate(byte[]? value, DevColumn column)
    {
        if (value is null || ReferenceEquals(value, Unset)) return value;
        var expected = column.Type.Code switch
        {
            CqlTypeCode.Int or CqlTypeCode.Date or CqlTypeCode.Float => 4,
            CqlTypeCode.Bigint or CqlTypeCode.Timestamp or CqlTypeCode.Double or CqlTypeCode.Counter or CqlTypeCode.Time => 8,
            CqlTypeCode.Uuid or CqlTypeCode.Timeuuid => 16,
            CqlTypeCode.Boolean or CqlTypeCode.Tinyint => 1,
            CqlTypeCode.Smallint => 2,
            _ => -1,
        };
        if (expected >= 0 && value.Length != expected && value.Length != 0)
            throw DevCqlError.Invalid($"Expected {expected} or 0 byte value for {column.Name} ({column.Type}), got {value.Length}");
        if (column.Type.Code == CqlTypeCode.Decimal && value.Length < 4)
            throw DevCqlError.Invalid($"Invalid decimal value for {column.Name}: {value.Length} bytes");
        return value;
    }

    /// <summary>Encodes a CQL literal as the column's type.</summary>
    public static byte[] Literal(Token token, DevColumn column)
    {
        var type = column.Type;
        var text = token.Text;
        try
        {
            switch (type.Code)
            {
                case CqlTypeCode.Varchar or CqlTypeCode.Ascii when token.Kind == TokenKind.String:
                    return Encoding.UTF8.GetBytes(text);
                case CqlTypeCode.Int when token.Kind == TokenKind.Number:
                    return Int(int.Parse(text, CultureInfo.InvariantCulture));
                case CqlTypeCode.Bigint or CqlTypeCode.Counter when token.Kind == TokenKind.Number:
                    return Long(long.Parse(text, CultureInfo.InvariantCulture));
                case CqlTypeCode.Smallint when token.Kind == TokenKind.Number:
                {
                    var bytes = new byte[2];
                    BinaryPrimitives.WriteInt16BigEndian(bytes, short.Parse(text, CultureInfo.InvariantCulture));
                    return bytes;
                }
                case CqlTypeCode.Tinyint when token.Kind == TokenKind.Number:
                    return [(byte)sbyte.Parse(text, CultureInfo.InvariantCulture)];
                case CqlTypeCode.Varint when token.Kind == TokenKind.Number:
                    return BigInteger.Parse(text, CultureInfo.InvariantCulture).ToByteArray(isUnsigned: false, isBigEndian: true);
                case CqlTypeCode.Decimal when token.Kind == TokenKind.Number:
                    return CqlValueCodec.Encode(CqlType.Decimal, decimal.Parse(text, NumberStyles.Float, CultureInfo.InvariantCulture))!;
                case CqlTypeCode.Double when token.Kind == TokenKind.Number:
                {
                    var bytes = new byte[8];
                    BinaryPrimitives.WriteDoubleBigEndian(bytes, double.Parse(text, NumberStyles.Float, CultureInfo.InvariantCulture));
                    return bytes;
                }
                case CqlTypeCode.Float when token.Kind == TokenKind.Number:
                {
                    var bytes = new byte[4];
                    BinaryPrimitives.WriteSingleBigEndian(bytes, float.Parse(text, NumberStyles.Float, CultureInfo.InvariantCulture));
                    return bytes;
                }
                case CqlTypeCode.Boolean when token.Kind == TokenKind.Identifier:
                    return [text.Equals("true", StringComparison.OrdinalIgnoreCase) ? (byte)1 : (byte)0];
                case CqlTypeCode.Uuid or CqlTypeCode.Timeuuid when token.Kind is TokenKind.Uuid or TokenKind.String:
                    return CqlValueCodec.Encode(CqlType.Uuid, Guid.Parse(text))!;
                case CqlTypeCode.Timestamp when token.Kind == TokenKind.Number:
                    return Long(long.Parse(text, CultureInfo.InvariantCulture));
                case CqlTypeCode.Timestamp when token.Kind == TokenKind.String:
                    return Long(ParseTimestamp(text).ToUnixTimeMilliseconds());
                case CqlTypeCode.Date when token.Kind == TokenKind.String:
                    return Int((int)CqlValueCodec.EncodeDate(DateOnly.ParseExact(text, "yyyy-MM-dd", CultureInfo.InvariantCulture)));
                case CqlTypeCode.Date when token.Kind == TokenKind.Number:
                    return Int((int)uint.Parse(text, CultureInfo.InvariantCulture));
                case CqlTypeCode.Blob when token.Kind == TokenKind.Hex:
                    return Convert.FromHexString(text[2..]);
                case CqlTypeCode.Inet when token.Kind == TokenKind.String:
                    return IPAddress.Parse(text).GetAddressBytes();
            }
        }
        catch (FormatException ex)
        {
            throw DevCqlError.Invalid($"Invalid {type} constant ({text}) for \"{column.Name}\": {ex.Message}");
        }
        catch (OverflowException)
        {
            throw DevCqlError.Invalid($"Invalid {type} constant ({text}) for \"{column.Name}\": out of range");
        }
        throw DevCqlError.Invalid($"Invalid {token.Kind.ToString().ToUpperInvariant()} constant ({text}) for \"{column.Name}\" of type {type}");
    }

    private static DateTimeOffset ParseTimestamp(string text)
    {
        string[] formats =
        [
            "yyyy-MM-dd HH:mm:ssK", "yyyy-MM-dd HH:mm:ss.FFFFFFK", "yyyy-MM-dd'T'HH:mm:ssK", "yyyy-MM-dd'T'HH:mm:ss.FFFFFFK",
            "yyyy-MM-dd HH:mm:sszzz", "yyyy-MM-dd HH:mm:ss.FFFFFFzzz", "yyyy-MM-dd HH:mm", "yyyy-MM-dd HH:mm:ss", "yyyy-MM-dd HH:mm:ss.FFFFFF",
            "yyyy-MM-dd'T'HH:mm:ss", "yyyy-MM-dd'T'HH:mm:ss.FFFFFF", "yyyy-MM-dd",
        ];
        // Cassandra also writes offsets as +0000; .NET wants +00:00.
        var normalized = text.Length > 5 && (text[^5] == '+' || text[^5] == '-') && text[^4..].All(char.IsDigit)
            ? text[..^2] + ":" + text[^2..]
            : text;
        return DateTimeOffset.ParseExact(normalized, formats, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal);
    }

    public static byte[] Int(int value)
    {
        var bytes = new byte[4];
        BinaryPrimitives.WriteInt32BigEndian(bytes, value);
        return bytes;
    }

    public static byte[] Long(long value)
    {
        var bytes = new byte[8];
        BinaryPrimitives.WriteInt64BigEndian(bytes, value);
        return bytes;
    }
}

internal sealed class DevAlreadyExists(string keyspace, string table, string message) : Exception(message)
{
    public string Keyspace { get; } = keyspace;
    public string Table { get; } = table;
}
