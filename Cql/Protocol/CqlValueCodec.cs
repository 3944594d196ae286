using System.Buffers.Binary;
using System.Numerics;
using System.Text;

namespace CustomerData.Cql.Protocol;

/// <summary>
/// Serialization of the supported CQL types (spec section 6). Values are checked against
/// the column type; a value that does not fit is an error, never silently changed.
/// </summary>
internal static class CqlValueCodec
{
    private const long DateEpochOffset = 1L << 31;
    private static readonly int UnixEpochDayNumber = new DateOnly(1970, 1, 1).DayNumber;

    /// <summary>Writes a [value] (length prefix + bytes) for <paramref name="value"/> typed as <paramref name="type"/>.</summary>
    public static void WriteValue(CqlFrameWriter writer, CqlType type, object? value, string name)
    {
        if (value is null)
        {
            writer.WriteInt(-1);
            return;
        }
        if (ReferenceEquals(value, CqlUnset.Value))
        {
            writer.WriteInt(-2);
            return;
        }
        switch (type.Code)
        {
            case CqlTypeCode.Int:
                writer.WriteInt(4);
                writer.WriteInt(ToInt32(value, name));
                return;
            case CqlTypeCode.Bigint or CqlTypeCode.Counter:
                writer.WriteInt(8);
                writer.WriteLong(ToInt64(value, type, name));
                return;
            case CqlTypeCode.Varchar or CqlTypeCode.Ascii:
            {
                if (value is not string text) throw Mismatch(value, type, name);
                if (type.Code == CqlTypeCode.Ascii && text.Any(c => c > 127))
                    throw new CqlValueException($"Value for '{name}' is not ASCII, but the column type is ascii.");
                var count = Encoding.UTF8.GetByteCount(text);
                writer.WriteInt(count);
                Encoding.UTF8.GetBytes(text, writer.GetSpan(count));
                return;
            }
            case CqlTypeCode.Decimal:
            {
                var number = value switch
                {
                    decimal d => d,
                    int i => i,
                    long l => l,
                    short s => s,
                    _ => throw Mismatch(value, type, name),
                };
                var at = writer.BeginValue();
                WriteDecimal(writer, number);
                writer.EndValue(at);
                return;
            }
            case CqlTypeCode.Double:
            {
                var number = value switch
                {
                    double d => d,
                    float f => f,
                    int i => i,
                    long l => l,
                    _ => throw Mismatch(value, type, name),
                };
                writer.WriteInt(8);
                BinaryPrimitives.WriteDoubleBigEndian(writer.GetSpan(8), number);
                return;
            }
            case CqlTypeCode.Boolean:
                if (value is not bool flag) throw Mismatch(value, type, name);
                writer.WriteInt(1);
                writer.WriteByte(flag ? (byte)1 : (byte)0);
                return;
            case CqlTypeCode.Timestamp:
                writer.WriteInt(8);
                writer.WriteLong(value switch
                {
                    DateTimeOffset dto => dto.ToUnixTimeMilliseconds(),
                    DateTime dt => ToUnixMilliseconds(dt),
                    long ms => ms,
                    _ => throw Mismatch(value, type, name),
                });
                return;
            case CqlTypeCode.Uuid or CqlTypeCode.Timeuuid:
                if (value is not Guid guid) throw Mismatch(value, type, name);
                writer.WriteInt(16);
                writer.WriteUuid(guid);
                return;
            case CqlTypeCode.Date:
                writer.WriteInt(4);
                BinaryPrimitives.WriteUInt32BigEndian(writer.GetSpan(4), EncodeDate(value switch
                {
                    DateOnly d => d,
                    DateTime dt => DateOnly.FromDateTime(dt),
                    DateTimeOffset dto => DateOnly.FromDateTime(dto.UtcDateTime),
                    _ => throw Mismatch(value, type, name),
                }));
                return;
            default:
                throw new CqlUnsupportedTypeException($"Cannot bind '{name}': CQL type {type} is not supported by this client (supported: int, bigint, text/varchar, decimal, double, boolean, timestamp, uuid, date).");
        }
    }

    /// <summary>The CQL type a .NET value maps to when no metadata is known (simple statements with values).</summary>
    public static CqlType InferType(object value, string name) => value switch
    {
        int => CqlType.Int,
        long => CqlType.Bigint,
        string => CqlType.Text,
        decimal => CqlType.Decimal,
        double => CqlType.Double,
        bool => CqlType.Boolean,
        DateTimeOffset or DateTime => CqlType.Timestamp,
        Guid => CqlType.Uuid,
        DateOnly => CqlType.Date,
        _ => throw new CqlUnsupportedTypeException($"Cannot bind '{name}': .NET type {value.GetType().Name} has no supported CQL type (use int, long, string, decimal, double, bool, DateTimeOffset, DateTime, Guid, DateOnly)."),
    };

    public static byte[]? Encode(CqlType type, object? value, string name = "value")
    {
        if (value is null) return null;
        var writer = new CqlFrameWriter(32);
        WriteValue(writer, type, value, name);
        return writer.Written[4..].ToArray();
    }

    /// <summary>Decodes a non-null value of a supported type.</summary>
    public static object Decode(CqlType type, ReadOnlySpan<byte> bytes, string name) => type.Code switch
    {
        CqlTypeCode.Int => DecodeInt32(bytes, name),
        CqlTypeCode.Bigint or CqlTypeCode.Counter => DecodeInt64(bytes, name),
        CqlTypeCode.Varchar or CqlTypeCode.Ascii => Encoding.UTF8.GetString(bytes),
        CqlTypeCode.Decimal => DecodeDecimal(bytes),
        CqlTypeCode.Double => Length(bytes, 8, name, type) is var b ? BinaryPrimitives.ReadDoubleBigEndian(b) : 0d,
        CqlTypeCode.Boolean => Length(bytes, 1, name, type)[0] != 0,
        CqlTypeCode.Timestamp => DateTimeOffset.FromUnixTimeMilliseconds(DecodeInt64(bytes, name)),
        CqlTypeCode.Uuid or CqlTypeCode.Timeuuid => new Guid(Length(bytes, 16, name, type), bigEndian: true),
        CqlTypeCode.Date => DecodeDate(BinaryPrimitives.ReadUInt32BigEndian(Length(bytes, 4, name, type))),
        _ => throw Unsupported(type, name),
    };

    public static CqlUnsupportedTypeException Unsupported(CqlType type, string name) =>
        new($"Column '{name}' has CQL type {type}, which this client does not support (supported: int, bigint, text/varchar, decimal, double, boolean, timestamp, uuid, date).");

    public static int DecodeInt32(ReadOnlySpan<byte> bytes, string name) =>
        BinaryPrimitives.ReadInt32BigEndian(Length(bytes, 4, name, CqlType.Int));

    public static long DecodeInt64(ReadOnlySpan<byte> bytes, string name) =>
        BinaryPrimitives.ReadInt64BigEndian(Length(bytes, 8, name, CqlType.Bigint));

    private static ReadOnlySpan<byte> Length(ReadOnlySpan<byte> bytes, int expected, string name, CqlType type) =>
        bytes.Length == expected
            ? bytes
            : throw new CqlProtocolException($"Column '{name}' of type {type} has {bytes.Length} bytes, expected {expected}.");

    public static void WriteDecimal(CqlFrameWriter writer, decimal value)
    {
        writer.WriteInt(value.Scale);
        WriteVarint(writer, DecimalUnscaled(value));
    }

    public static BigInteger DecimalUnscaled(decimal value)
    {
        Span<int> bits = stackalloc int[4];
        decimal.GetBits(value, bits);
        var magnitude = ((BigInteger)(uint)bits[2] << 64) | ((BigInteger)(uint)bits[1] << 32) | (uint)bits[0];
        return value < 0 || (bits[3] & int.MinValue) != 0 ? -magnitude : magnitude;
    }

    /// <summary>Minimal big-endian two's complement (spec 6.23: 128 → 0x0080, -129 → 0xFF7F).</summary>
    public static void WriteVarint(CqlFrameWriter writer, BigInteger value)
    {
        var count = value.GetByteCount(isUnsigned: false);
        value.TryWriteBytes(writer.GetSpan(count), out _, isUnsigned: false, isBigEndian: true);
    }

    public static BigInteger DecodeVarint(ReadOnlySpan<byte> bytes) =>
        bytes.IsEmpty ? BigInteger.Zero : new BigInteger(bytes, isUnsigned: false, isBigEndian: true);

    /// <summary>[int] scale then varint unscaled: value = unscaled × 10^-scale. Out of System.Decimal's range is an error.</summary>
    public static decimal DecodeDecimal(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length < 4) throw new CqlProtocolException($"A decimal needs at least 4 bytes, got {bytes.Length}.");
        var scale = BinaryPrimitives.ReadInt32BigEndian(bytes);
        var unscaled = DecodeVarint(bytes[4..]);
        // Drop trailing zeros a larger scale than decimal's 28 digits may carry.
        while (scale > 28 && !unscaled.IsZero && unscaled % 10 == 0)
        {
            unscaled /= 10;
            scale--;
        }
        if (scale < 0)
        {
            unscaled *= BigInteger.Pow(10, -scale);
            scale = 0;
        }
        var magnitude = BigInteger.Abs(unscaled);
        if (scale > 28 || magnitude.GetBitLength() > 96)
            throw new CqlValueException($"Decimal {unscaled}E-{scale} does not fit System.Decimal (28 digits of scale, 96-bit mantissa).");
        Span<byte> le = stackalloc byte[12];
        le.Clear();
        magnitude.TryWriteBytes(le, out _, isUnsigned: true, isBigEndian: false);
        return new decimal(
            BinaryPrimitives.ReadInt32LittleEndian(le),
            BinaryPrimitives.ReadInt32LittleEndian(le[4..]),
            BinaryPrimitives.ReadInt32LittleEndian(le[8..]),
            unscaled.Sign < 0,
            (byte)scale);
    }

    public static uint EncodeDate(DateOnly date) => (uint)(date.DayNumber - UnixEpochDayNumber + DateEpochOffset);

    public static DateOnly DecodeDate(uint value)
    {
        var days = (long)value - DateEpochOffset + UnixEpochDayNumber;
        if (days < DateOnly.MinValue.DayNumber || days > DateOnly.MaxValue.DayNumber)
            throw new CqlValueException($"Date value {value} (days from epoch {(long)value - DateEpochOffset}) is outside DateOnly's range 0001-01-01..9999-12-31.");
        return DateOnly.FromDayNumber((int)days);
    }

    public static long ToUnixMilliseconds(DateTime value)
    {
        // Unspecified kind is taken as UTC: the platform stores UTC everywhere.
        var utc = value.Kind == DateTimeKind.Local ? value.ToUniversalTime() : DateTime.SpecifyKind(value, DateTimeKind.Utc);
        return new DateTimeOffset(utc).ToUnixTimeMilliseconds();
    }

    private static int ToInt32(object value, string name) => value switch
    {
        int i => i,
        short s => s,
        byte b => b,
        sbyte sb => sb,
        ushort us => us,
        long l when l is >= int.MinValue and <= int.MaxValue => (int)l,
        uint u when u <= int.MaxValue => (int)u,
        _ => throw Mismatch(value, CqlType.Int, name),
    };

    private static long ToInt64(object value, CqlType type, string name) => value switch
    {
        long l => l,
        int i => i,
        short s => s,
        byte b => b,
        uint u => u,
        ulong ul when ul <= long.MaxValue => (long)ul,
        _ => throw Mismatch(value, type, name),
    };

    private static CqlValueException Mismatch(object value, CqlType type, string name) =>
        new($"Cannot bind '{name}': a {value.GetType().Name} value ({value}) does not fit CQL type {type}.");
}

/// <summary>Marker for an unset bound value (protocol v4): the column keeps its current value.</summary>
public sealed class CqlUnset
{
    public static readonly CqlUnset Value = new();
    private CqlUnset() { }
}
