using System.Buffers.Binary;

namespace CustomerData.Cql.DevServer;

/// <summary>Orders and hashes byte arrays by content (row keys).</summary>
internal sealed class ByteArrayComparer : IComparer<byte[]>, IEqualityComparer<byte[]>
{
    public static readonly ByteArrayComparer Instance = new();
    public int Compare(byte[]? x, byte[]? y) => x.AsSpan().SequenceCompareTo(y);
    public bool Equals(byte[]? x, byte[]? y) => x.AsSpan().SequenceEqual(y);
    public int GetHashCode(byte[] obj)
    {
        var hash = new HashCode();
        hash.AddBytes(obj);
        return hash.ToHashCode();
    }
}

internal sealed record DevColumn(string Name, CqlType Type, string TypeText);

/// <summary>
/// One table in memory: rows keyed by their encoded primary key, with a sorted key set so
/// full scans page in a stable order. Guarded by a single lock (it is a dev server).
/// </summary>
internal sealed class DevTable
{
    private readonly Dictionary<byte[], byte[]?[]> _rows = new(ByteArrayComparer.Instance);
    private readonly SortedSet<byte[]> _keys = new(ByteArrayComparer.Instance);
    private readonly Dictionary<string, int> _ordinals;

    public DevTable(string keyspace, string name, IReadOnlyList<DevColumn> columns, IReadOnlyList<string> partitionKey, IReadOnlyList<string> clustering)
    {
        Keyspace = keyspace;
        Name = name;
        Columns = columns;
        _ordinals = columns.Select((c, i) => (c.Name, i)).ToDictionary(x => x.Name, x => x.i, StringComparer.Ordinal);
        PartitionKey = [.. partitionKey.Select(Ordinal)];
        Clustering = [.. clustering.Select(Ordinal)];
        PrimaryKey = [.. PartitionKey, .. Clustering];
    }

    public string Keyspace { get; }
    public string Name { get; }
    public IReadOnlyList<DevColumn> Columns { get; }
    public int[] PartitionKey { get; }
    public int[] Clustering { get; }
    public int[] PrimaryKey { get; }
    public object Sync { get; } = new();
    public int Count => _rows.Count;

    public int Ordinal(string column) =>
        _ordinals.TryGetValue(column, out var ordinal)
            ? ordinal
            : throw DevCqlError.Invalid($"Undefined column name {column} in table {Keyspace}.{Name}");

    public bool TryOrdinal(string column, out int ordinal) => _ordinals.TryGetValue(column, out ordinal);

    /// <summary>Primary key bytes: each key column as [int length][bytes].</summary>
    public byte[] EncodeKey(byte[]?[] values)
    {
        var length = 0;
        foreach (var ordinal in PrimaryKey)
        {
            length += 4 + (values[ordinal] ?? throw DevCqlError.Invalid($"Missing mandatory PRIMARY KEY part {Columns[ordinal].Name}")).Length;
        }
        var key = new byte[length];
        var at = 0;
        foreach (var ordinal in PrimaryKey)
        {
            var value = values[ordinal]!;
            BinaryPrimitives.WriteInt32BigEndian(key.AsSpan(at), value.Length);
            value.CopyTo(key, at + 4);
            at += 4 + value.Length;
        }
        return key;
    }

    public byte[]?[]? Get(byte[] key) => _rows.GetValueOrDefault(key);

    public void Put(byte[] key, byte[]?[] row)
    {
        if (_rows.TryAdd(key, row)) _keys.Add(key);
        else _rows[key] = row;
    }

    public bool Remove(byte[] key) => _rows.Remove(key) && _keys.Remove(key);

    public void Clear()
    {
        _rows.Clear();
        _keys.Clear();
    }

    /// <summary>Rows in key order, starting after <paramref name="afterKey"/> (exclusive) when given.</summary>
    public IEnumerable<(byte[] Key, byte[]?[] Row)> Scan(byte[]? afterKey)
    {
        IEnumerable<byte[]> keys = _keys;
        if (afterKey is not null)
        {
            if (_keys.Count == 0 || ByteArrayComparer.Instance.Compare(afterKey, _keys.Max) >= 0) yield break;
            keys = _keys.GetViewBetween(afterKey, _keys.Max!);
        }
        foreach (var key in keys)
        {
            if (afterKey is not null && ByteArrayComparer.Instance.Equals(key, afterKey)) continue;
            yield return (key, _rows[key]);
        }
    }
}

internal sealed class DevKeyspace(string name)
{
    public string Name { get; } = name;
    public Dictionary<string, DevTable> Tables { get; } = new(StringComparer.Ordinal);
}

/// <summary>All keyspaces and tables, with save/load to one file (write to a temp file, then rename).</summary>
internal sealed class DevCatalog
{
    private const string Magic = "CQLDEV01";
    private readonly Dictionary<string, DevKeyspace> _keyspaces = new(StringComparer.Ordinal);
    private long _version;

    public object Sync { get; } = new();

    /// <summary>Bumped by every change; persistence saves when it moved.</summary>
    public long Version => Interlocked.Read(ref _version);
    public void Touch() => Interlocked.Increment(ref _version);

    public static bool IsSystemKeyspace(string keyspace) => keyspace.StartsWith("system", StringComparison.Ordinal);

    public DevKeyspace? FindKeyspace(string name)
    {
        lock (Sync) return _keyspaces.GetValueOrDefault(name);
    }

    public DevTable? FindTable(string keyspace, string table)
    {
        lock (Sync) return _keyspaces.GetValueOrDefault(keyspace)?.Tables.GetValueOrDefault(table);
    }

    public bool CreateKeyspace(string name)
    {
        lock (Sync)
        {
            if (_keyspaces.ContainsKey(name)) return false;
            _keyspaces[name] = new DevKeyspace(name);
            Touch();
            return true;
        }
    }

    public bool DropKeyspace(string name)
    {
        lock (Sync)
        {
            Touch();
            return _keyspaces.Remove(name);
        }
    }

    public bool AddTable(DevTable table)
    {
        lock (Sync)
        {
            var keyspace = _keyspaces.GetValueOrDefault(table.Keyspace) ?? throw DevCqlError.Invalid($"Keyspace {table.Keyspace} does not exist");
            if (keyspace.Tables.ContainsKey(table.Name)) return false;
            keyspace.Tables[table.Name] = table;
            Touch();
            return true;
        }
    }

    public bool DropTable(string keyspace, string table)
    {
        lock (Sync)
        {
            Touch();
            return _keyspaces.GetValueOrDefault(keyspace)?.Tables.Remove(table) ?? false;
        }
    }

    public void Save(string path)
    {
        List<DevKeyspace> keyspaces;
        lock (Sync) keyspaces = [.. _keyspaces.Values.Where(k => !IsSystemKeyspace(k.Name))];
        var directory = Path.GetDirectoryName(Path.GetFullPath(path));
        if (!string.IsNullOrEmpty(directory)) Directory.CreateDirectory(directory);
        var temp = path + ".tmp";
        using (var stream = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16))
        using (var writer = new BinaryWriter(stream))
        {
            writer.Write(Magic);
            writer.Write(keyspaces.Count);
            foreach (var keyspace in keyspaces)
            {
                writer.Write(keyspace.Name);
                List<DevTable> tables;
                lock (Sync) tables = [.. keyspace.Tables.Values];
                writer.Write(tables.Count);
                foreach (var table in tables)
                {
                    writer.Write(table.Name);
                    writer.Write(table.Columns.Count);
                    foreach (var column in table.Columns)
                    {
                        writer.Write(column.Name);
                        writer.Write(column.TypeText);
                    }
                    writer.Write(table.PartitionKey.Length);
                    foreach (var ordinal in table.PartitionKey) writer.Write(ordinal);
                    writer.Write(table.Clustering.Length);
                    foreach (var ordinal in table.Clustering) writer.Write(ordinal);
                    lock (table.Sync)
                    {
                        writer.Write(table.Count);
                        foreach (var (_, row) in table.Scan(null))
                        {
                            foreach (var value in row)
                            {
                                writer.Write(value?.Length ?? -1);
                                if (value is not null) writer.Write(value);
                            }
                        }
                    }
                }
            }
            writer.Flush();
            stream.Flush(flushToDisk: true);
        }
        File.Move(temp, path, overwrite: true);
    }

    public void Load(string path)
    {
        using var stream = File.OpenRead(path);
        using var reader = new BinaryReader(stream);
        if (reader.ReadString() != Magic) throw new InvalidDataException($"{path} is not a CQL dev server data file.");
        var keyspaceCount = reader.ReadInt32();
        lock (Sync)
        {
            for (var k = 0; k < keyspaceCount; k++)
            {
                var keyspace = new DevKeyspace(reader.ReadString());
                _keyspaces[keyspace.Name] = keyspace;
                var tableCount = reader.ReadInt32();
                for (var t = 0; t < tableCount; t++)
                {
                    var name = reader.ReadString();
                    var columns = new DevColumn[reader.ReadInt32()];
                    for (var c = 0; c < columns.Length; c++)
                    {
                        var columnName = reader.ReadString();
                        var typeText = reader.ReadString();
                        columns[c] = new DevColumn(columnName, CqlType.Parse(typeText), typeText);
                    }
                    var partition = new string[reader.ReadInt32()];
                    for (var i = 0; i < partition.Length; i++) partition[i] = columns[reader.ReadInt32()].Name;
                    var clustering = new string[reader.ReadInt32()];
                    for (var i = 0; i < clustering.Length; i++) clustering[i] = columns[reader.ReadInt32()].Name;
                    var table = new DevTable(keyspace.Name, name, columns, partition, clustering);
                    var rowCount = reader.ReadInt32();
                    for (var r = 0; r < rowCount; r++)
                    {
                        var row = new byte[]?[columns.Length];
                        for (var c = 0; c < columns.Length; c++)
                        {
                            var length = reader.ReadInt32();
                            row[c] = length < 0 ? null : reader.ReadBytes(length);
                        }
                        table.Put(table.EncodeKey(row), row);
                    }
                    keyspace.Tables[name] = table;
                }
            }
        }
    }
}
