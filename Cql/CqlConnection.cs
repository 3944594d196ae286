using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Net.Security;
using System.Net.Sockets;
using System.Text;
using System.Threading.Channels;
using CustomerData.Cql.Protocol;

namespace CustomerData.Cql;

/// <summary>
/// One socket to one host. Requests are multiplexed on stream ids: a writer loop coalesces
/// queued frames into few socket writes, a reader loop routes each response to its waiter.
/// </summary>
internal sealed class CqlConnection : IAsyncDisposable
{
    private sealed class Pending(CqlOpcode opcode, TimeSpan timeout)
    {
        public readonly TaskCompletionSource<CqlFrame> Completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public readonly long Deadline = Environment.TickCount64 + (long)timeout.TotalMilliseconds;
        public CqlOpcode Opcode => opcode;
        public TimeSpan Timeout => timeout;
    }

    /// <summary>How often pending requests are checked against their deadline (one timer per connection, not per request).</summary>
    private static readonly TimeSpan TimeoutSweepPeriod = TimeSpan.FromMilliseconds(25);
    private readonly Timer _timeoutSweep;

    private readonly Socket _socket;
    private readonly Stream _stream;
    private readonly Pending?[] _pending;
    private readonly ConcurrentStack<short> _freeStreams = new();
    private readonly SemaphoreSlim _slots;
    private readonly Channel<ArraySegment<byte>> _writes = Channel.CreateUnbounded<ArraySegment<byte>>(new UnboundedChannelOptions { SingleReader = true });
    private readonly CancellationTokenSource _closing = new();
    private Exception? _failure;
    private int _inFlight;
    private Task _readLoop = Task.CompletedTask;
    private Task _writeLoop = Task.CompletedTask;

    private long _lastReceived = Environment.TickCount64;
    private int _heartbeatRunning;

    /// <summary>Idle time after which an OPTIONS heartbeat checks that the peer still answers (0 disables).</summary>
    public TimeSpan HeartbeatInterval { get; init; } = TimeSpan.FromSeconds(30);

    private CqlConnection(Socket socket, Stream stream, string endpoint, byte version, int maxInFlight)
    {
        _socket = socket;
        _stream = stream;
        Endpoint = endpoint;
        ProtocolVersion = version;
        _pending = new Pending?[maxInFlight];
        for (var i = maxInFlight - 1; i >= 0; i--) _freeStreams.Push((short)i);
        _slots = new SemaphoreSlim(maxInFlight, maxInFlight);
        _timeoutSweep = new Timer(static state => ((CqlConnection)state!).SweepTimeouts(), this, TimeoutSweepPeriod, TimeoutSweepPeriod);
    }

    /// <summary>Fails requests past their deadline; their stream ids stay reserved until the late response arrives.</summary>
    private void SweepTimeouts()
    {
        var now = Environment.TickCount64;
        if (HeartbeatInterval > TimeSpan.Zero && now - Volatile.Read(ref _lastReceived) > HeartbeatInterval.TotalMilliseconds
            && _failure is null && Interlocked.Exchange(ref _heartbeatRunning, 1) == 0)
        {
            _ = HeartbeatAsync();
        }
        foreach (var pending in _pending)
        {
            if (pending is not null && pending.Deadline <= now && !pending.Completion.Task.IsCompleted)
            {
                pending.Completion.TrySetException(new CqlRequestTimeoutException(
                    $"No response from {Endpoint} within {pending.Timeout.TotalMilliseconds:0} ms ({pending.Opcode})."));
            }
        }
    }

    public string Endpoint { get; }
    public byte ProtocolVersion { get; }
    public int InFlight => Volatile.Read(ref _inFlight);
    public bool IsClosed => _failure is not null;

    /// <summary>The keyspace this connection last switched to with USE.</summary>
    public string? Keyspace { get; set; }
    public SemaphoreSlim KeyspaceLock { get; } = new(1, 1);

    /// <summary>Connects, negotiates the protocol version (4, else 3) and authenticates.</summary>
    public static async Task<CqlConnection> OpenAsync(string host, int port, CqlSessionOptions options, byte version, CancellationToken cancellationToken)
    {
        for (; ; version--)
        {
            var connection = await ConnectAsync(host, port, options, version, cancellationToken);
            try
            {
                await connection.StartupAsync(options, cancellationToken);
                return connection;
            }
            catch (CqlServerException ex) when (ex.Code == CqlErrorCode.ProtocolError && ex.ServerMessage.Contains("protocol version", StringComparison.OrdinalIgnoreCase))
            {
                await connection.DisposeAsync();
                if (version <= 3)
                    throw new CqlProtocolVersionException($"Server {host}:{port} refused CQL native protocol versions {options.MaxProtocolVersion} down to 3: {ex.ServerMessage}");
            }
            catch (CqlConnectionException ex) when (version > 3 && ex.InnerException is CqlProtocolVersionMismatch)
            {
                // The server answered with another version: older servers close or reply in their own version.
                await connection.DisposeAsync();
            }
            catch
            {
                await connection.DisposeAsync();
                throw;
            }
        }
    }

    private static async Task<CqlConnection> ConnectAsync(string host, int port, CqlSessionOptions options, byte version, CancellationToken cancellationToken)
    {
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(options.ConnectTimeout);
        try
        {
            await socket.ConnectAsync(host, port, timeout.Token);
            Stream stream = new NetworkStream(socket, ownsSocket: true);
            if (options.Ssl)
            {
                var ssl = new SslStream(stream, leaveInnerStreamOpen: false);
                await ssl.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
                {
                    TargetHost = host,
                    RemoteCertificateValidationCallback = options.SslAllowInvalidCertificate ? (_, _, _, _) => true : null,
                }, timeout.Token);
                stream = ssl;
            }
            var connection = new CqlConnection(socket, stream, $"{host}:{port}", version, options.MaxRequestsPerConnection)
            {
                HeartbeatInterval = options.HeartbeatInterval,
            };
            connection._readLoop = Task.Run(connection.ReadLoopAsync, CancellationToken.None);
            connection._writeLoop = Task.Run(connection.WriteLoopAsync, CancellationToken.None);
            return connection;
        }
        catch (Exception ex) when (ex is SocketException or IOException or OperationCanceledException or System.Security.Authentication.AuthenticationException && !cancellationToken.IsCancellationRequested)
        {
            socket.Dispose();
            throw new CqlConnectionException($"Cannot connect to {host}:{port}: {ex.Message}", ex);
        }
    }

    private async Task StartupAsync(CqlSessionOptions options, CancellationToken cancellationToken)
    {
        var response = await SendAsync(CqlOpcode.Startup, w => w.WriteStringMap([new("CQL_VERSION", "3.0.0")]), options.ConnectTimeout, cancellationToken);
        switch (response.Opcode)
        {
            case CqlOpcode.Ready:
                return;
            case CqlOpcode.Authenticate:
                var authenticator = response.OpenBody().ReadString();
                if (options.Username is null)
                    throw new CqlAuthenticationException($"Server {Endpoint} requires authentication ({authenticator}) but no Username/Password is configured.");
                await AuthenticateAsync(options, cancellationToken);
                return;
            case CqlOpcode.Error:
                throw CqlServerException.Read(response);
            default:
                throw new CqlProtocolException($"Unexpected {response.Opcode} in answer to STARTUP.");
        }
    }

    /// <summary>SASL PLAIN as PasswordAuthenticator (and Amazon Keyspaces) expect: \0user\0password.</summary>
    private async Task AuthenticateAsync(CqlSessionOptions options, CancellationToken cancellationToken)
    {
        var user = Encoding.UTF8.GetBytes(options.Username ?? "");
        var password = Encoding.UTF8.GetBytes(options.Password ?? "");
        var token = new byte[user.Length + password.Length + 2];
        user.CopyTo(token, 1);
        password.CopyTo(token, user.Length + 2);
        for (var round = 0; round < 10; round++)
        {
            var response = await SendAsync(CqlOpcode.AuthResponse, w => w.WriteBytes(token), options.ConnectTimeout, cancellationToken);
            switch (response.Opcode)
            {
                case CqlOpcode.AuthSuccess:
                    return;
                case CqlOpcode.AuthChallenge:
                    continue; // PLAIN has no challenges; answer again with the same token.
                case CqlOpcode.Error:
                    throw CqlServerException.Read(response);
                default:
                    throw new CqlProtocolException($"Unexpected {response.Opcode} during authentication.");
            }
        }
        throw new CqlAuthenticationException("Authentication did not complete after 10 rounds.");
    }

    /// <summary>Sends one request and waits for its response frame (an ERROR frame is returned, not thrown).</summary>
    public async Task<CqlFrame> SendAsync(CqlOpcode opcode, Action<CqlFrameWriter> writeBody, TimeSpan timeout, CancellationToken cancellationToken)
    {
        ThrowIfClosed();
        var frame = CqlFrameWriter.Start(ProtocolVersion, opcode);
        writeBody(frame);
        frame.EndFrame();
        var bytes = new ArraySegment<byte>(frame.Buffer, 0, frame.Length);

        if (!await _slots.WaitAsync(timeout, cancellationToken).ConfigureAwait(false))
            throw new CqlRequestTimeoutException($"All {_pending.Length} stream ids on {Endpoint} stayed busy for {timeout.TotalMilliseconds:0} ms ({opcode}).");
        if (_failure is not null)
        {
            _slots.Release();
            throw Closed();
        }
        if (!_freeStreams.TryPop(out var stream))
        {
            _slots.Release();
            throw new CqlConnectionException($"No free stream id on {Endpoint}.");
        }
        var pending = new Pending(opcode, timeout);
        _pending[stream] = pending;
        Interlocked.Increment(ref _inFlight);
        BinaryPrimitives.WriteInt16BigEndian(bytes.AsSpan(2), stream);
        if (_failure is not null || !_writes.Writer.TryWrite(bytes))
        {
            // The reader loop already failed every pending request, or is about to.
            pending.Completion.TrySetException(Closed());
        }
        return cancellationToken.CanBeCanceled
            ? await pending.Completion.Task.WaitAsync(cancellationToken).ConfigureAwait(false)
            : await pending.Completion.Task.ConfigureAwait(false);
    }

    /// <summary>An idle connection whose peer vanished without closing (half-open TCP) would only be noticed by a request timing out.</summary>
    private async Task HeartbeatAsync()
    {
        try
        {
            var response = await SendAsync(CqlOpcode.Options, _ => { }, TimeSpan.FromSeconds(10), CancellationToken.None).ConfigureAwait(false);
            if (response.Opcode != CqlOpcode.Supported) Fail(new CqlProtocolException($"Heartbeat answered with {response.Opcode}."));
        }
        catch (CqlException ex)
        {
            Fail(new CqlConnectionException($"Heartbeat to {Endpoint} failed: {ex.Message}", ex));
        }
        finally
        {
            Volatile.Write(ref _lastReceived, Environment.TickCount64);
            Volatile.Write(ref _heartbeatRunning, 0);
        }
    }

    private void ThrowIfClosed()
    {
        if (_failure is not null) throw Closed();
    }

    private CqlConnectionException Closed() =>
        _failure as CqlConnectionException ?? new CqlConnectionException($"Connection to {Endpoint} is closed: {_failure?.Message}", _failure);

    private async Task WriteLoopAsync()
    {
        var buffer = new byte[64 * 1024];
        var reader = _writes.Reader;
        try
        {
            while (await reader.WaitToReadAsync(_closing.Token).ConfigureAwait(false))
            {
                var length = 0;
                while (length < buffer.Length && reader.TryRead(out var frame))
                {
                    if (length + frame.Count > buffer.Length)
                    {
                        if (length > 0) await _stream.WriteAsync(buffer.AsMemory(0, length), _closing.Token).ConfigureAwait(false);
                        length = 0;
                        if (frame.Count > buffer.Length)
                        {
                            await _stream.WriteAsync(frame.AsMemory(), _closing.Token).ConfigureAwait(false);
                            continue;
                        }
                    }
                    frame.AsSpan().CopyTo(buffer.AsSpan(length));
                    length += frame.Count;
                }
                if (length > 0) await _stream.WriteAsync(buffer.AsMemory(0, length), _closing.Token).ConfigureAwait(false);
                await _stream.FlushAsync(_closing.Token).ConfigureAwait(false);
            }
        }
        catch (Exception ex)
        {
            Fail(ex);
        }
    }

    private async Task ReadLoopAsync()
    {
        var frames = new CqlFrameAssembler();
        try
        {
            while (true)
            {
                // Hand out every complete frame in the buffer.
                while (frames.TryPeekHeader(out var header))
                {
                    var (version, flags, stream, opcode, length) = header;
                    if (length is < 0 or > CqlFrame.MaxBodyLength)
                        throw new CqlProtocolException($"Invalid frame body length {length} from {Endpoint}.");
                    if (!frames.TryTakeBody(length, out var body)) break;
                    if ((version & 0x7F) != ProtocolVersion)
                        throw new CqlConnectionException($"{Endpoint} answered in protocol version {version & 0x7F}, we speak {ProtocolVersion}.", new CqlProtocolVersionMismatch());
                    Dispatch(new CqlFrame(version, flags, stream, opcode, body));
                }
                var read = await _stream.ReadAsync(frames.FreeSpace(), _closing.Token).ConfigureAwait(false);
                if (read == 0) throw new CqlConnectionException($"{Endpoint} closed the connection.");
                Volatile.Write(ref _lastReceived, Environment.TickCount64);
                frames.Advance(read);
            }
        }
        catch (Exception ex)
        {
            Fail(ex);
        }
    }

    private void Dispatch(CqlFrame frame)
    {
        if (frame.Stream < 0) return; // EVENT pushes: this client registers for none.
        if (frame.Stream >= _pending.Length) throw new CqlProtocolException($"Response on unknown stream {frame.Stream}.");
        var pending = Interlocked.Exchange(ref _pending[frame.Stream], null);
        if (pending is null) return;
        Interlocked.Decrement(ref _inFlight);
        _freeStreams.Push(frame.Stream);
        _slots.Release();
        pending.Completion.TrySetResult(frame);
    }

    private void Fail(Exception ex)
    {
        var failure = ex as CqlConnectionException ?? new CqlConnectionException($"Connection to {Endpoint} failed: {ex.Message}", ex);
        if (Interlocked.CompareExchange(ref _failure, failure, null) is not null) return;
        _writes.Writer.TryComplete();
        _timeoutSweep.Dispose();
        _closing.Cancel();
        try { _stream.Dispose(); } catch (ObjectDisposedException) { }
        for (var i = 0; i < _pending.Length; i++)
        {
            var pending = Interlocked.Exchange(ref _pending[i], null);
            pending?.Completion.TrySetException(failure);
        }
        // Wake callers waiting for a stream id: they see the failure and move on.
        try { _slots.Release(_pending.Length - _slots.CurrentCount); } catch (Exception e) when (e is SemaphoreFullException or ArgumentOutOfRangeException) { }
    }

    public async ValueTask DisposeAsync()
    {
        Fail(new CqlConnectionException($"Connection to {Endpoint} was closed by the client."));
        try { await Task.WhenAll(_readLoop, _writeLoop).WaitAsync(TimeSpan.FromSeconds(5)); } catch (Exception) { /* loops end on the failure */ }
        _socket.Dispose();
        _closing.Dispose();
    }
}

/// <summary>Marks a response frame whose version differs from the one requested (negotiation falls back).</summary>
internal sealed class CqlProtocolVersionMismatch() : Exception("protocol version mismatch");
