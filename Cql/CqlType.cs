using CustomerData.Cql.Protocol;

namespace CustomerData.Cql;

/// <summary>Type ids of the [option] notation (spec section 4.2.5.2).</summary>
public enum CqlTypeCode : ushort
{
    Custom = 0x0000,
    Ascii = 0x0001,
    Bigint = 0x0002,
    Blob = 0x0003,
    Boolean = 0x0004,
    Counter = 0x0005,
    Decimal = 0x0006,
    Double = 0x0007,
    Float = 0x0008,
    Int = 0x0009,
    Timestamp = 0x000B,
    Uuid = 0x000C,
    Varchar = 0x000D,
    Varint = 0x000E,
    Timeuuid = 0x000F,
    Inet = 0x0010,
    Date = 0x0011,
    Time = 0x0012,
    Smallint = 0x0013,
    Tinyint = 0x0014,
    Duration = 0x0015,
    List = 0x0020,
    Map = 0x0021,
    Set = 0x0022,
    Udt = 0x0030,
    Tuple = 0x0031,
}

/// <summary>A CQL column type as the server described it.</summary>
public sealed class CqlType
{
    public static readonly CqlType Int = new(CqlTypeCode.Int);
    public static readonly CqlType Bigint = new(CqlTypeCode.Bigint);
    public static readonly CqlType Text = new(CqlTypeCode.Varchar);
    public static readonly CqlType Decimal = new(CqlTypeCode.Decimal);
    public static readonly CqlType Double = new(CqlTypeCode.Double);
    public static readonly CqlType Boolean = new(CqlTypeCode.Boolean);
    public static readonly CqlType Timestamp = new(CqlTypeCode.Timestamp);
    public static readonly CqlType Uuid = new(CqlTypeCode.Uuid);
    public static readonly CqlType Date = new(CqlTypeCode.Date);

    public CqlType(CqlTypeCode code, IReadOnlyList<CqlType>? parameters = null, string? customName = null)
    {
        Code = code;
        Parameters = parameters ?? [];
        CustomName = customName;
    }

    public CqlTypeCode Code { get; }
    public IReadOnlyList<CqlType> Parameters { get; }
    public string? CustomName { get; }

    /// <summary>True for the types this client encodes and decodes; the rest raise <see cref="CqlUnsupportedTypeException"/>.</summary>
    public bool IsSupported => Code is CqlTypeCode.Int or CqlTypeCode.Bigint or CqlTypeCode.Varchar or CqlTypeCode.Ascii
        or CqlTypeCode.Decimal or CqlTypeCode.Double or CqlTypeCode.Boolean or CqlTypeCode.Timestamp
        or CqlTypeCode.Uuid or CqlTypeCode.Date;

    public override string ToString() => Code switch
    {
        CqlTypeCode.Custom => $"'{CustomName}'",
        CqlTypeCode.Varchar => "text",
        CqlTypeCode.List => $"list<{Parameters[0]}>",
        CqlTypeCode.Set => $"set<{Parameters[0]}>",
        CqlTypeCode.Map => $"map<{Parameters[0]}, {Parameters[1]}>",
        CqlTypeCode.Tuple => $"tuple<{string.Join(", ", Parameters)}>",
        CqlTypeCode.Udt => $"udt {CustomName}",
        _ => Code.ToString().ToLowerInvariant(),
    };

    /// <summary>Parses a CQL type name ("int", "text", "list&lt;int&gt;", ...) as used in CREATE TABLE.</summary>
    public static CqlType Parse(string name)
    {
        var text = name.Trim().ToLowerInvariant();
        var lt = text.IndexOf('<');
        if (lt > 0 && text.EndsWith('>'))
        {
            var outer = text[..lt].Trim();
            var inner = SplitTopLevel(text[(lt + 1)..^1]).Select(Parse).ToArray();
            if (outer == "frozen" && inner.Length == 1) return inner[0];
            return outer switch
            {
                "list" when inner.Length == 1 => new CqlType(CqlTypeCode.List, inner),
                "set" when inner.Length == 1 => new CqlType(CqlTypeCode.Set, inner),
                "map" when inner.Length == 2 => new CqlType(CqlTypeCode.Map, inner),
                "tuple" => new CqlType(CqlTypeCode.Tuple, inner),
                _ => throw new CqlUnsupportedTypeException($"Unknown CQL type '{name}'."),
            };
        }
        return text switch
        {
            "ascii" => new CqlType(CqlTypeCode.Ascii),
            "bigint" => Bigint,
            "blob" => new CqlType(CqlTypeCode.Blob),
            "boolean" => Boolean,
            "counter" => new CqlType(CqlTypeCode.Counter),
            "decimal" => Decimal,
            "double" => Double,
            "float" => new CqlType(CqlTypeCode.Float),
            "int" => Int,
            "timestamp" => Timestamp,
            "uuid" => Uuid,
            "text" or "varchar" => Text,
            "varint" => new CqlType(CqlTypeCode.Varint),
            "timeuuid" => new CqlType(CqlTypeCode.Timeuuid),
            "inet" => new CqlType(CqlTypeCode.Inet),
            "date" => Date,
            "time" => new CqlType(CqlTypeCode.Time),
            "smallint" => new CqlType(CqlTypeCode.Smallint),
            "tinyint" => new CqlType(CqlTypeCode.Tinyint),
            "duration" => new CqlType(CqlTypeCode.Duration),
            _ => throw new CqlUnsupportedTypeException($"Unknown CQL type '{name}'."),
        };
    }

    private static IEnumerable<string> SplitTopLevel(string text)
    {
        var depth = 0;
        var start = 0;
        for (var i = 0; i < text.Length; i++)
        {
            if (text[i] == '<') depth++;
            else if (text[i] == '>') depth--;
            else if (text[i] == ',' && depth == 0)
            {
                yield return text[start..i];
                start = i + 1;
            }
        }
        yield return text[start..];
    }

    internal static CqlType Read(CqlReader reader)
    {
        var code = (CqlTypeCode)reader.ReadShort();
        switch (code)
        {
            case CqlTypeCode.Custom:
                return new CqlType(code, customName: reader.ReadString());
            case CqlTypeCode.List or CqlTypeCode.Set:
                return new CqlType(code, [Read(reader)]);
            case CqlTypeCode.Map:
                return new CqlType(code, [Read(reader), Read(reader)]);
            case CqlTypeCode.Udt:
            {
                var keyspace = reader.ReadString();
                var name = reader.ReadString();
                var count = reader.ReadShort();
                var fields = new CqlType[count];
                for (var i = 0; i < count; i++)
                {
                    reader.ReadString();
                    fields[i] = Read(reader);
                }
                return new CqlType(code, fields, $"{keyspace}.{name}");
            }
            case CqlTypeCode.Tuple:
            {
                var count = reader.ReadShort();
                var items = new CqlType[count];
                for (var i = 0; i < count; i++) items[i] = Read(reader);
                return new CqlType(code, items);
            }
            default:
                return Singleton(code);
        }
    }

    private static CqlType Singleton(CqlTypeCode code) => code switch
    {
        CqlTypeCode.Int => Int,
        CqlTypeCode.Bigint => Bigint,
        CqlTypeCode.Varchar => Text,
        CqlTypeCode.Decimal => Decimal,
        CqlTypeCode.Double => Double,
        CqlTypeCode.Boolean => Boolean,
        CqlTypeCode.Timestamp => Timestamp,
        CqlTypeCode.Uuid => Uuid,
        CqlTypeCode.Date => Date,
        _ => new CqlType(code),
    };

    internal void Write(CqlFrameWriter writer)
    {
        writer.WriteShort((ushort)Code);
        switch (Code)
        {
            case CqlTypeCode.Custom:
                writer.WriteString(CustomName ?? "");
                break;
            case CqlTypeCode.List or CqlTypeCode.Set or CqlTypeCode.Map:
                foreach (var parameter in Parameters) parameter.Write(writer);
                break;
            case CqlTypeCode.Tuple:
                writer.WriteShort((ushort)Parameters.Count);
                foreach (var parameter in Parameters) parameter.Write(writer);
                break;
            case CqlTypeCode.Udt:
                throw new CqlUnsupportedTypeException("User-defined types are not supported.");
        }
    }
}
