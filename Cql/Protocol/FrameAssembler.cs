namespace CustomerData.Cql.Protocol;

/// <summary>
/// Cuts whole frames out of a byte stream, for the client's and the dev server's read loops alike:
/// one buffer that is compacted when its tail runs short and grown when a frame is larger than it.
/// </summary>
internal sealed class CqlFrameAssembler(int initialSize = 64 * 1024)
{
    private const int MinFreeSpace = 4096;
    private byte[] _buffer = new byte[initialSize];
    private int _start;
    private int _end;

    /// <summary>Where the next read goes; never empty.</summary>
    public Memory<byte> FreeSpace()
    {
        if (_start == _end)
        {
            _start = _end = 0;
        }
        else if (_start > 0 && _buffer.Length - _end < MinFreeSpace)
        {
            Buffer.BlockCopy(_buffer, _start, _buffer, 0, _end - _start);
            _end -= _start;
            _start = 0;
        }
        return _buffer.AsMemory(_end);
    }

    /// <summary>Counts <paramref name="read"/> bytes just read into <see cref="FreeSpace"/>.</summary>
    public void Advance(int read) => _end += read;

    /// <summary>The next frame's header, when a whole header is buffered.</summary>
    public bool TryPeekHeader(out (byte Version, byte Flags, short Stream, CqlOpcode Opcode, int Length) header)
    {
        if (_end - _start < CqlFrame.HeaderLength)
        {
            header = default;
            return false;
        }
        header = CqlFrame.ParseHeader(_buffer.AsSpan(_start));
        return true;
    }

    /// <summary>
    /// Takes the body (of <paramref name="length"/> bytes, from the peeked header) of the next frame; false while
    /// it is incomplete, after making room for all of it. The caller validates the length first.
    /// </summary>
    public bool TryTakeBody(int length, out byte[] body)
    {
        var frameLength = CqlFrame.HeaderLength + length;
        if (_end - _start < frameLength)
        {
            if (frameLength > _buffer.Length)
            {
                var bigger = new byte[frameLength];
                Buffer.BlockCopy(_buffer, _start, bigger, 0, _end - _start);
                _end -= _start;
                _start = 0;
                _buffer = bigger;
            }
            body = [];
            return false;
        }
        body = _buffer.AsSpan(_start + CqlFrame.HeaderLength, length).ToArray();
        _start += frameLength;
        return true;
    }
}
