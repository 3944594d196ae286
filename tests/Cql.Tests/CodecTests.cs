using System.Numerics;
using CustomerData.Cql.Protocol;

namespace CustomerData.Cql.Tests;

/// <summary>Byte-level encoding of frames and of every supported type, including the spec's own examples.</summary>
public sealed class CodecTests
{
    private static byte[] Encode(CqlType type, object value) => CqlValueCodec.Encode(type, value)!;

    [Theory]
    [InlineData(0, "00")]
    [InlineData(1, "01")]
    [InlineData(127, "7F")]
    [InlineData(128, "0080")]
    [InlineData(129, "0081")]
    [InlineData(-1, "FF")]
    [InlineData(-128, "80")]
    [InlineData(-129, "FF7F")]
    public void Varint_matches_the_spec_table(int value, string hex)
    {
        var writer = new CqlFrameWriter(16);
        CqlValueCodec.WriteVarint(writer, value);
        Assert.Equal(hex, Convert.ToHexString(writer.Written.Span));
        Assert.Equal(new BigInteger(value), CqlValueCodec.DecodeVarint(Convert.FromHexString(hex)));
    }

    [Theory]
    [InlineData("1.23", "00000002" + "7B")]            // unscaled 123, scale 2
    [InlineData("-1.29", "00000002" + "FF7F")]         // negative unscaled -129 (spec's negative varint)
    [InlineData("128", "00000000" + "0080")]           // positive value needing the 0x00 pad
    [InlineData("0.000", "00000003" + "00")]
    [InlineData("143949.50", "00000002" + "00DBA646")] // 14394950 = 0xDBA646
    public void Decimal_is_scale_then_varint_unscaled(string text, string hex)
    {
        var value = decimal.Parse(text, System.Globalization.CultureInfo.InvariantCulture);
        Assert.Equal(hex, Convert.ToHexString(Encode(CqlType.Decimal, value)));
        var decoded = CqlValueCodec.DecodeDecimal(Convert.FromHexString(hex));
        Assert.Equal(value, decoded);
        Assert.Equal(value.Scale, decoded.Scale);
    }

    [Fact]
    public void Decimal_with_negative_scale_and_out_of_range_values()
    {
        // unscaled 5, scale -3 = 5000
        Assert.Equal(5000m, CqlValueCodec.DecodeDecimal(Convert.FromHexString("FFFFFFFD05")));
        // 2^100 does not fit System.Decimal: an error, never a wrong value.
        var writer = new CqlFrameWriter(32);
        writer.WriteInt(0);
        CqlValueCodec.WriteVarint(writer, BigInteger.Pow(2, 100));
        Assert.Throws<CqlValueException>(() => CqlValueCodec.DecodeDecimal(writer.Written.Span));
        Assert.Equal(decimal.MaxValue, CqlValueCodec.DecodeDecimal(Encode(CqlType.Decimal, decimal.MaxValue)));
        Assert.Equal(decimal.MinValue, CqlValueCodec.DecodeDecimal(Encode(CqlType.Decimal, decimal.MinValue)));
    }

    [Fact]
    public void Timestamp_is_milliseconds_since_epoch()
    {
        var instant = new DateTimeOffset(2024, 5, 18, 18, 17, 40, 123, TimeSpan.Zero);
        Assert.Equal("0000018F8CEC7E1B", Convert.ToHexString(Encode(CqlType.Timestamp, instant)));
        Assert.Equal(instant, CqlValueCodec.Decode(CqlType.Timestamp, Convert.FromHexString("0000018F8CEC7E1B"), "t"));
        // Before the epoch is negative.
        Assert.Equal("FFFFFFFFFFFFFC18", Convert.ToHexString(Encode(CqlType.Timestamp, DateTimeOffset.UnixEpoch.AddSeconds(-1))));
        // DateTime with unspecified kind is taken as UTC.
        Assert.Equal(Encode(CqlType.Timestamp, instant), Encode(CqlType.Timestamp, new DateTime(2024, 5, 18, 18, 17, 40, 123)));
    }

    [Fact]
    public void Date_is_days_centered_at_two_to_the_31()
    {
        Assert.Equal("80000000", Convert.ToHexString(Encode(CqlType.Date, new DateOnly(1970, 1, 1))));
        Assert.Equal("80000001", Convert.ToHexString(Encode(CqlType.Date, new DateOnly(1970, 1, 2))));
        Assert.Equal("7FFFFFFF", Convert.ToHexString(Encode(CqlType.Date, new DateOnly(1969, 12, 31))));
        Assert.Equal(new DateOnly(2025, 12, 10), CqlValueCodec.DecodeDate(CqlValueCodec.EncodeDate(new DateOnly(2025, 12, 10))));
        // Spec example: 0 is -5877641-06-23, outside DateOnly: a clear error.
        Assert.Throws<CqlValueException>(() => CqlValueCodec.DecodeDate(0));
    }

    [Fact]
    public void Uuid_is_written_in_rfc_byte_order()
    {
        var id = Guid.Parse("00112233-4455-6677-8899-aabbccddeeff");
        Assert.Equal("00112233445566778899AABBCCDDEEFF", Convert.ToHexString(Encode(CqlType.Uuid, id)));
        Assert.Equal(id, CqlValueCodec.Decode(CqlType.Uuid, Convert.FromHexString("00112233445566778899AABBCCDDEEFF"), "u"));
    }

    [Fact]
    public void Fixed_width_types_are_big_endian()
    {
        Assert.Equal("FFFFFFFE", Convert.ToHexString(Encode(CqlType.Int, -2)));
        Assert.Equal("0000000100000000", Convert.ToHexString(Encode(CqlType.Bigint, 1L << 32)));
        Assert.Equal("3FF8000000000000", Convert.ToHexString(Encode(CqlType.Double, 1.5)));
        Assert.Equal("01", Convert.ToHexString(Encode(CqlType.Boolean, true)));
        Assert.Equal("00", Convert.ToHexString(Encode(CqlType.Boolean, false)));
        Assert.Equal("C3A9", Convert.ToHexString(Encode(CqlType.Text, "é")));
        Assert.Equal(-2, CqlValueCodec.Decode(CqlType.Int, Convert.FromHexString("FFFFFFFE"), "i"));
        Assert.Equal(1L << 32, CqlValueCodec.Decode(CqlType.Bigint, Convert.FromHexString("0000000100000000"), "b"));
        Assert.Equal(1.5, CqlValueCodec.Decode(CqlType.Double, Convert.FromHexString("3FF8000000000000"), "d"));
        Assert.Equal(true, CqlValueCodec.Decode(CqlType.Boolean, [0x02], "b")); // any non-zero is true
        Assert.Equal("é", CqlValueCodec.Decode(CqlType.Text, Convert.FromHexString("C3A9"), "s"));
    }

    [Fact]
    public void Values_that_do_not_fit_the_column_type_are_rejected()
    {
        Assert.Throws<CqlValueException>(() => Encode(CqlType.Int, long.MaxValue));
        Assert.Throws<CqlValueException>(() => Encode(CqlType.Int, "12"));
        Assert.Throws<CqlValueException>(() => Encode(CqlType.Decimal, 1.5));
        Assert.Equal(Encode(CqlType.Int, 7), Encode(CqlType.Int, 7L));
        Assert.Throws<CqlProtocolException>(() => CqlValueCodec.Decode(CqlType.Int, [1, 2], "i"));
    }

    [Fact]
    public void Unsupported_types_fail_with_a_clear_message()
    {
        var list = CqlType.Parse("list<int>");
        var ex = Assert.Throws<CqlUnsupportedTypeException>(() => CqlValueCodec.Decode(list, [0, 0, 0, 0], "tags"));
        Assert.Contains("tags", ex.Message);
        Assert.Contains("list<int>", ex.Message);
        Assert.Throws<CqlUnsupportedTypeException>(() => Encode(new CqlType(CqlTypeCode.Float), 1.5f));
        Assert.Throws<CqlUnsupportedTypeException>(() => CqlValueCodec.InferType(1.5f, "v"));
    }

    [Fact]
    public void Startup_frame_bytes()
    {
        var writer = CqlFrameWriter.Start(4, CqlOpcode.Startup, stream: 1);
        writer.WriteStringMap([new("CQL_VERSION", "3.0.0")]);
        writer.EndFrame();
        // version 4, flags 0, stream 1, opcode STARTUP, length 22; [string map] with one entry.
        Assert.Equal(
            "04" + "00" + "0001" + "01" + "00000016" + "0001" + "000B" + Convert.ToHexString("CQL_VERSION"u8) + "0005" + Convert.ToHexString("3.0.0"u8),
            Convert.ToHexString(writer.Written.Span));
        var (version, flags, stream, opcode, length) = CqlFrame.ParseHeader(writer.Written.Span);
        Assert.Equal((4, 0, (short)1, CqlOpcode.Startup, 22), (version, flags, stream, opcode, length));
    }

    [Fact]
    public void Rows_result_round_trips_with_paging_state_and_nulls()
    {
        var columns = new CqlColumnSet([
            new CqlColumn("ks", "t", "id", CqlType.Int), new CqlColumn("ks", "t", "name", CqlType.Text),
            new CqlColumn("ks", "t", "tags", CqlType.Parse("map<text, int>"))]);
        var writer = CqlFrameWriter.Start(0x84, CqlOpcode.Result);
        writer.WriteInt((int)CqlResultKind.Rows);
        columns.Write(writer, RowsFlags.None, [1, 2, 3]);
        writer.WriteInt(1);
        writer.WriteBytes(Encode(CqlType.Int, 42));
        writer.WriteNull();
        writer.WriteBytes([0, 0, 0, 0]);
        writer.EndFrame();
        var bytes = writer.Written.ToArray();
        var header = CqlFrame.ParseHeader(bytes);
        var frame = new CqlFrame(header.Version, header.Flags, header.Stream, header.Opcode, bytes[9..]);
        var result = CqlResult.Read(frame, null);
        Assert.Equal([1, 2, 3], result.PagingState);
        Assert.Equal(42, result.Rows[0].GetInt32("id"));
        Assert.True(result.Rows[0].IsNull("name"));
        Assert.Null(result.Rows[0].Get<string?>("name"));
        Assert.Throws<CqlValueException>(() => result.Rows[0].GetString("name"));
        Assert.Throws<CqlUnsupportedTypeException>(() => result.Rows[0].GetValue("tags"));
    }

    [Fact]
    public void Error_frames_become_typed_exceptions()
    {
        var writer = CqlFrameWriter.Start(0x84, CqlOpcode.Error);
        writer.WriteInt((int)CqlErrorCode.WriteTimeout);
        writer.WriteString("timed out");
        writer.WriteShort((ushort)CqlConsistency.LocalQuorum);
        writer.WriteInt(1);
        writer.WriteInt(2);
        writer.WriteString("SIMPLE");
        writer.EndFrame();
        var bytes = writer.Written.ToArray();
        var ex = Assert.IsType<CqlWriteTimeoutException>(CqlServerException.Read(new CqlFrame(0x84, 0, 0, CqlOpcode.Error, bytes[9..])));
        Assert.Equal(CqlErrorCode.WriteTimeout, ex.Code);
        Assert.Equal("timed out", ex.ServerMessage);
        Assert.Equal((CqlConsistency.LocalQuorum, 1, 2, "SIMPLE"), (ex.Consistency, ex.Received, ex.BlockFor, ex.WriteType));
    }

    [Fact]
    public void Connection_string_is_parsed()
    {
        var options = CqlSessionOptions.Parse("Contact Points=db1:9142, db2;Keyspace=customer_data;Username=app;Password=p=w;Ssl=true");
        Assert.Equal(["db1:9142", "db2"], options.ContactPoints);
        Assert.Equal(("db2", 9042), CqlSessionOptions.ParseEndpoint(options.ContactPoints[1]));
        Assert.Equal("customer_data", options.Keyspace);
        Assert.Equal("app", options.Username);
        Assert.Equal("p=w", options.Password);
        Assert.True(options.Ssl);
        Assert.Throws<FormatException>(() => CqlSessionOptions.Parse("Keyspace=x"));
        Assert.Equal("customer_data", CqlSession.QuoteIdentifierIfNeeded("customer_data"));
        Assert.Equal("\"my-ks\"", CqlSession.QuoteIdentifierIfNeeded("my-ks"));
        Assert.Equal("\"_x\"\"y\"", CqlSession.QuoteIdentifierIfNeeded("_x\"y"));
        Assert.Throws<FormatException>(() => CqlSessionOptions.Parse("Contact Points=h:1;Colour=blue"));
    }
}
