using System.Buffers.Binary;
using System.Text;

namespace CustomerData.Cql.Protocol;

/// <summary>Message opcodes of the CQL native protocol (spec section 2.4).</summary>
internal enum CqlOpcode : byte
{
    Error = 0x00,
    Startup = 0x01,
    Ready = 0x02,
    Authenticate = 0x03,
    Options = 0x05,
    Supported = 0x06,
    Query = 0x07,
    Result = 0x08,
    Prepare = 0x09,
    Execute = 0x0A,
    Register = 0x0B,
    Event = 0x0C,
    Batch = 0x0D,
    AuthChallenge = 0x0E,
    AuthResponse = 0x0F,
    AuthSuccess = 0x10,
}

/// <summary>Kinds of RESULT messages (spec section 4.2.5).</summary>
internal enum CqlResultKind
{
    Void = 1,
    Rows = 2,
    SetKeyspace = 3,
    Prepared = 4,
    SchemaChange = 5,
}

[Flags]
internal enum QueryFlags : byte
{
    None = 0,
    Values = 0x01,
    SkipMetadata = 0x02,
    PageSize = 0x04,
    PagingState = 0x08,
    SerialConsistency = 0x10,
    DefaultTimestamp = 0x20,
    NamesForValues = 0x40,
}

[Flags]
internal enum RowsFlags
{
    None = 0,
    GlobalTablesSpec = 0x0001,
    HasMorePages = 0x0002,
    NoMetadata = 0x0004,
}

/// <summary>A received frame: the 9-byte header fields plus the (uncompressed) body.</summary>
internal readonly record struct CqlFrame(byte Version, byte Flags, short Stream, CqlOpcode Opcode, byte[] Body)
{
    public const int HeaderLength = 9;
    public const byte ResponseBit = 0x80;
    public const byte FlagTracing = 0x02;
    public const byte FlagCustomPayload = 0x04;
    public const byte FlagWarning = 0x08;

    /// <summary>Largest body we accept (the protocol's own limit is 256 MB).</summary>
    public const int MaxBodyLength = 256 * 1024 * 1024;

    public bool IsResponse => (Version & ResponseBit) != 0;
    public byte ProtocolVersion => (byte)(Version & 0x7F);

    /// <summary>A reader positioned after the optional tracing id, warnings and custom payload.</summary>
    public CqlReader OpenBody()
    {
        var reader = new CqlReader(Body);
        if ((Flags & FlagTracing) != 0 && IsResponse) reader.ReadUuid();
        if ((Flags & FlagWarning) != 0) reader.ReadStringList();
        if ((Flags & FlagCustomPayload) != 0) reader.ReadBytesMap();
        return reader;
    }

    public static (byte Version, byte Flags, short Stream, CqlOpcode Opcode, int Length) ParseHeader(ReadOnlySpan<byte> header)
    {
        var length = BinaryPrimitives.ReadInt32BigEndian(header[5..]);
        return (header[0], header[1], BinaryPrimitives.ReadInt16BigEndian(header[2..]), (CqlOpcode)header[4], length);
    }
}

/// <summary>
/// Builds one frame: writes a placeholder header, then the body in the protocol's notations
/// ([int], [string], [bytes], ...), and patches the length (and later the stream id) in place.
/// </summary>
internal sealed class CqlFrameWriter
{
    private byte[] _buffer;
    private int _position;

    public CqlFrameWriter(int capacity = 256) => _buffer = new byte[Math.Max(capacity, CqlFrame.HeaderLength)];

    public int Length => _position;
    public byte[] Buffer => _buffer;
    public ReadOnlyMemory<byte> Written => _buffer.AsMemory(0, _position);

    public static CqlFrameWriter Start(byte version, CqlOpcode opcode, short stream = 0, byte flags = 0, int capacity = 256)
    {
        var writer = new CqlFrameWriter(capacity);
        writer.BeginFrame(version, opcode, stream, flags);
        return writer;
    }

    /// <summary>Begins another frame after the ones already written (servers batch responses).</summary>
    public int BeginFrame(byte version, CqlOpcode opcode, short stream, byte flags = 0)
    {
        var start = _position;
        Ensure(CqlFrame.HeaderLength);
        _buffer[_position] = version;
        _buffer[_position + 1] = flags;
        BinaryPrimitives.WriteInt16BigEndian(_buffer.AsSpan(_position + 2), stream);
        _buffer[_position + 4] = (byte)opcode;
        _position += CqlFrame.HeaderLength;
        return start;
    }

    /// <summary>Writes the body length of the frame that started at <paramref name="frameStart"/>.</summary>
    public void EndFrame(int frameStart = 0) =>
        BinaryPrimitives.WriteInt32BigEndian(_buffer.AsSpan(frameStart + 5), _position - frameStart - CqlFrame.HeaderLength);

    public void SetStream(short stream, int frameStart = 0) =>
        BinaryPrimitives.WriteInt16BigEndian(_buffer.AsSpan(frameStart + 2), stream);

    public void Reset(int position = 0) => _position = position;

    private void Ensure(int count)
    {
        if (_position + count <= _buffer.Length) return;
        var size = Math.Max(_buffer.Length * 2, _position + count);
        Array.Resize(ref _buffer, size);
    }

    public Span<byte> GetSpan(int count)
    {
        Ensure(count);
        var span = _buffer.AsSpan(_position, count);
        _position += count;
        return span;
    }

    public void WriteByte(byte value)
    {
        Ensure(1);
        _buffer[_position++] = value;
    }

    public void WriteShort(ushort value) => BinaryPrimitives.WriteUInt16BigEndian(GetSpan(2), value);
    public void WriteInt(int value) => BinaryPrimitives.WriteInt32BigEndian(GetSpan(4), value);
    public void WriteLong(long value) => BinaryPrimitives.WriteInt64BigEndian(GetSpan(8), value);

    public void WriteRaw(ReadOnlySpan<byte> bytes) => bytes.CopyTo(GetSpan(bytes.Length));

    public void WriteString(string value)
    {
        var count = Encoding.UTF8.GetByteCount(value);
        if (count > ushort.MaxValue) throw new ArgumentException("A [string] is limited to 65535 bytes.", nameof(value));
        WriteShort((ushort)count);
        Encoding.UTF8.GetBytes(value, GetSpan(count));
    }

    public void WriteLongString(string value)
    {
        var count = Encoding.UTF8.GetByteCount(value);
        WriteInt(count);
        Encoding.UTF8.GetBytes(value, GetSpan(count));
    }

    public void WriteStringList(IReadOnlyCollection<string> values)
    {
        WriteShort((ushort)values.Count);
        foreach (var value in values) WriteString(value);
    }

    public void WriteStringMap(IReadOnlyCollection<KeyValuePair<string, string>> map)
    {
        WriteShort((ushort)map.Count);
        foreach (var (key, value) in map)
        {
            WriteString(key);
            WriteString(value);
        }
    }

    public void WriteStringMultimap(IReadOnlyCollection<KeyValuePair<string, string[]>> map)
    {
        WriteShort((ushort)map.Count);
        foreach (var (key, values) in map)
        {
            WriteString(key);
            WriteStringList(values);
        }
    }

    /// <summary>[bytes]: an [int] length (negative = null) then the bytes.</summary>
    public void WriteBytes(ReadOnlySpan<byte> value)
    {
        WriteInt(value.Length);
        WriteRaw(value);
    }

    public void WriteBytes(byte[]? value)
    {
        if (value is null) WriteInt(-1);
        else WriteBytes(value.AsSpan());
    }

    public void WriteNull() => WriteInt(-1);

    public void WriteShortBytes(ReadOnlySpan<byte> value)
    {
        WriteShort((ushort)value.Length);
        WriteRaw(value);
    }

    public void WriteUuid(Guid value) => value.TryWriteBytes(GetSpan(16), bigEndian: true, out _);

    /// <summary>Starts a [bytes] value whose length is patched by <see cref="EndValue"/>.</summary>
    public int BeginValue()
    {
        var at = _position;
        WriteInt(0);
        return at;
    }

    public void EndValue(int lengthAt) =>
        BinaryPrimitives.WriteInt32BigEndian(_buffer.AsSpan(lengthAt), _position - lengthAt - 4);
}

/// <summary>Reads the protocol's notations from a frame body.</summary>
internal sealed class CqlReader(byte[] buffer, int position = 0, int? end = null)
{
    private readonly int _end = end ?? buffer.Length;

    public byte[] Buffer => buffer;
    public int Position { get => position; set => position = value; }
    public int Remaining => _end - position;

    private ReadOnlySpan<byte> Take(int count)
    {
        if (count < 0 || position + count > _end)
            throw new CqlProtocolException($"Frame body is truncated: needed {count} bytes at offset {position}, {_end - position} left.");
        var span = buffer.AsSpan(position, count);
        position += count;
        return span;
    }

    public byte ReadByte() => Take(1)[0];
    public ushort ReadShort() => BinaryPrimitives.ReadUInt16BigEndian(Take(2));
    public int ReadInt() => BinaryPrimitives.ReadInt32BigEndian(Take(4));
    public long ReadLong() => BinaryPrimitives.ReadInt64BigEndian(Take(8));
    public Guid ReadUuid() => new(Take(16), bigEndian: true);

    public string ReadString() => Encoding.UTF8.GetString(Take(ReadShort()));
    public string ReadLongString() => Encoding.UTF8.GetString(Take(ReadInt()));

    public string[] ReadStringList()
    {
        var count = ReadShort();
        var list = new string[count];
        for (var i = 0; i < count; i++) list[i] = ReadString();
        return list;
    }

    public Dictionary<string, string> ReadStringMap()
    {
        var count = ReadShort();
        var map = new Dictionary<string, string>(count, StringComparer.Ordinal);
        for (var i = 0; i < count; i++) map[ReadString()] = ReadString();
        return map;
    }

    public Dictionary<string, string[]> ReadStringMultimap()
    {
        var count = ReadShort();
        var map = new Dictionary<string, string[]>(count, StringComparer.Ordinal);
        for (var i = 0; i < count; i++) map[ReadString()] = ReadStringList();
        return map;
    }

    public Dictionary<string, byte[]?> ReadBytesMap()
    {
        var count = ReadShort();
        var map = new Dictionary<string, byte[]?>(count, StringComparer.Ordinal);
        for (var i = 0; i < count; i++) map[ReadString()] = ReadBytes();
        return map;
    }

    /// <summary>[bytes] as a copy; null for a negative length.</summary>
    public byte[]? ReadBytes()
    {
        var length = ReadInt();
        return length < 0 ? null : Take(length).ToArray();
    }

    /// <summary>[bytes]/[value] without copying: offset into <see cref="Buffer"/> and length (-1 null, -2 unset).</summary>
    public (int Offset, int Length) ReadValueSlice()
    {
        var length = ReadInt();
        if (length < 0) return (position, length);
        var offset = position;
        Take(length);
        return (offset, length);
    }

    public byte[] ReadShortBytes() => Take(ReadShort()).ToArray();
}
