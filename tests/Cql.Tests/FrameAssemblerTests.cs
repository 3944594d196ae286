using CustomerData.Cql.Protocol;

namespace CustomerData.Cql.Tests;

public sealed class FrameAssemblerTests
{
    [Theory]
    [InlineData(1, 64)]          // one byte a read: every header and body arrives in pieces
    [InlineData(7, 64)]
    [InlineData(4096, 64)]       // several frames a read
    [InlineData(4096, 16)]       // bodies larger than the buffer: it grows
    public void Frames_come_out_whole_and_in_order_however_the_bytes_arrive(int chunk, int initialSize)
    {
        var writer = new CqlFrameWriter(1024);
        var bodies = new List<string>();
        for (short i = 0; i < 20; i++)
        {
            var body = new string((char)('a' + i), i * 13);
            var start = writer.BeginFrame(4, CqlOpcode.Query, i);
            writer.WriteLongString(body);
            writer.EndFrame(start);
            bodies.Add(body);
        }
        var wire = writer.Written.ToArray();
        var assembler = new CqlFrameAssembler(initialSize);
        var received = new List<(short Stream, string Body)>();

        for (var offset = 0; offset < wire.Length;)
        {
            var space = assembler.FreeSpace();
            Assert.False(space.IsEmpty);
            var n = Math.Min(Math.Min(chunk, space.Length), wire.Length - offset);
            wire.AsSpan(offset, n).CopyTo(space.Span);
            assembler.Advance(n);
            offset += n;
            while (assembler.TryPeekHeader(out var header) && assembler.TryTakeBody(header.Length, out var body))
            {
                received.Add((header.Stream, new CqlFrame(header.Version, header.Flags, header.Stream, header.Opcode, body).OpenBody().ReadLongString()));
            }
        }

        Assert.Equal(Enumerable.Range(0, 20).Select(i => ((short)i, bodies[i])), received);
    }
}
