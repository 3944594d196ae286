using System.Collections.Concurrent;
using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.ExceptionServices;
using CustomerData.Cql.Protocol;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace CustomerData.Cql;

/// <summary>
/// Entry point of the client: a pool of multiplexed connections to the contact points, with a
/// prepared-statement cache, retries of idempotent statements and one span per request.
/// Thread-safe; create one per cluster and keep it for the life of the process.
/// </summary>
public sealed class CqlSession : IAsyncDisposable
{
    private readonly CqlSessionOptions _options;
    private readonly ILogger _logger;
    private readonly HostPool[] _hosts;
    private readonly ConcurrentDictionary<(string? Keyspace, string Query), Task<CqlPreparedStatement>> _prepared = new();
    private readonly CancellationTokenSource _disposed = new();
    private int _nextHost;
    private volatile string? _keyspace;
    private int _protocolVersion;

    public CqlSession(CqlSessionOptions options, ILogger<CqlSession>? logger = null)
    {
        options.Validate();
        _options = options;
        _logger = (ILogger?)logger ?? NullLogger.Instance;
        _keyspace = options.Keyspace;
        _protocolVersion = options.MaxProtocolVersion;
        _hosts = [.. options.ContactPoints.Select(point =>
        {
            var (host, port) = CqlSessionOptions.ParseEndpoint(point);
            return new HostPool(this, host, port);
        })];
    }

    /// <summary>Creates a session and opens a first connection, so bad addresses or credentials fail here.</summary>
    public static async Task<CqlSession> ConnectAsync(CqlSessionOptions options, ILogger<CqlSession>? logger = null, CancellationToken cancellationToken = default)
    {
        var session = new CqlSession(options, logger);
        try
        {
            await session.GetConnectionAsync(cancellationToken);
            return session;
        }
        catch
        {
            await session.DisposeAsync();
            throw;
        }
    }

    public static Task<CqlSession> ConnectAsync(string connectionString, ILogger<CqlSession>? logger = null, CancellationToken cancellationToken = default) =>
        ConnectAsync(CqlSessionOptions.Parse(connectionString), logger, cancellationToken);

    /// <summary>The keyspace unqualified table names refer to (from the options, or the last USE).</summary>
    public string? Keyspace => _keyspace;

    /// <summary>Protocol version in use (4, or 3 when the server refused 4).</summary>
    public int ProtocolVersion => Volatile.Read(ref _protocolVersion);

    public CqlSessionOptions Options => _options;

    /// <summary>Runs a CQL statement; <paramref name="values"/> bind its ? markers (types inferred from the .NET values).</summary>
    public async Task<CqlResult> ExecuteAsync(string cql, IReadOnlyList<object?>? values = null, CqlQueryOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(cql);
        options ??= Defaults;
        var consistency = options.Consistency ?? _options.DefaultConsistency;
        var encoded = values is { Count: > 0 } ? EncodeInferred(values) : null;
        var idempotent = options.IsIdempotent ?? IsSelect(cql);
        using var activity = StartActivity(cql, consistency);
        var started = Stopwatch.GetTimestamp();
        try
        {
            var frame = await RunAsync(CqlOpcode.Query, w =>
            {
                w.WriteLongString(cql);
                WriteQueryParameters(w, consistency, options, encoded, null);
            }, idempotent, options.Timeout, null, activity, cancellationToken);
            var result = CqlResult.Read(ExpectResult(frame), null);
            AfterResult(result);
            Record(activity, started, FirstWord(cql), null);
            return result;
        }
        catch (Exception ex)
        {
            Record(activity, started, FirstWord(cql), ex);
            throw;
        }
    }

    /// <summary>Runs a prepared statement with values for its bind markers (checked against the column types).</summary>
    public async Task<CqlResult> ExecuteAsync(CqlPreparedStatement statement, IReadOnlyList<object?>? values = null, CqlQueryOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(statement);
        options ??= Defaults;
        values ??= [];
        if (values.Count != statement.Variables.Count)
            throw new ArgumentException($"Statement '{statement.Query}' takes {statement.Variables.Count} values, got {values.Count}.", nameof(values));
        var consistency = options.Consistency ?? _options.DefaultConsistency;
        var idempotent = options.IsIdempotent ?? IsSelect(statement.Query);
        using var activity = StartActivity(statement.Query, consistency, statement.Operation);
        var started = Stopwatch.GetTimestamp();
        try
        {
            var frame = await RunAsync(CqlOpcode.Execute, w =>
            {
                w.WriteShortBytes(statement.Id);
                // The result columns are known from PREPARE: ask the server not to resend them.
                WriteQueryParameters(w, consistency, options, values, statement.Variables, skipMetadata: statement.ResultColumns.Count > 0);
            }, idempotent, options.Timeout, id => id.AsSpan().SequenceEqual(statement.Id) ? statement : null, activity, cancellationToken);
            var result = CqlResult.Read(ExpectResult(frame), statement.ResultColumns);
            Record(activity, started, statement.Operation, null);
            return result;
        }
        catch (Exception ex)
        {
            Record(activity, started, statement.Operation, ex);
            throw;
        }
    }

    /// <summary>Prepares a statement (cached per keyspace and query text: preparing twice costs nothing).</summary>
    public Task<CqlPreparedStatement> PrepareAsync(string cql, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(cql);
        var key = (_keyspace, cql);
        var task = _prepared.GetOrAdd(key, k => PrepareCoreAsync(k.Query, k.Keyspace, cancellationToken));
        if (task.IsFaulted || task.IsCanceled)
        {
            _prepared.TryRemove(new KeyValuePair<(string?, string), Task<CqlPreparedStatement>>(key, task));
            task = _prepared.GetOrAdd(key, k => PrepareCoreAsync(k.Query, k.Keyspace, cancellationToken));
        }
        return task;
    }

    private async Task<CqlPreparedStatement> PrepareCoreAsync(string cql, string? keyspace, CancellationToken cancellationToken)
    {
        using var activity = StartActivity(cql, null, "PREPARE");
        var started = Stopwatch.GetTimestamp();
        try
        {
            var frame = await RunAsync(CqlOpcode.Prepare, w => w.WriteLongString(cql), idempotent: true, null, null, activity, cancellationToken);
            var statement = ReadPrepared(ExpectResult(frame), cql, keyspace);
            Record(activity, started, "PREPARE", null);
            return statement;
        }
        catch (Exception ex)
        {
            Record(activity, started, "PREPARE", ex);
            throw;
        }
    }

    /// <summary>Sends statements as one BATCH (unlogged by default).</summary>
    public async Task ExecuteBatchAsync(CqlBatch batch, CqlQueryOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(batch);
        if (batch.Count == 0) return;
        if (batch.Count > ushort.MaxValue) throw new ArgumentException("A batch holds at most 65535 statements.", nameof(batch));
        options ??= Defaults;
        var consistency = options.Consistency ?? _options.DefaultConsistency;
        var statements = batch.Statements.Select(s => (s.Query, s.Prepared,
            Values: s.Prepared is null && s.Values.Count > 0 ? EncodeInferred(s.Values) : s.Values)).ToArray();
        var summary = $"BATCH {batch.Type} ({batch.Count}): {statements[0].Query ?? statements[0].Prepared!.Query}";
        using var activity = StartActivity(summary, consistency, "BATCH");
        var started = Stopwatch.GetTimestamp();
        try
        {
            var frame = await RunAsync(CqlOpcode.Batch, w =>
            {
                w.WriteByte((byte)batch.Type);
                w.WriteShort((ushort)statements.Length);
                foreach (var (query, prepared, values) in statements)
                {
                    if (prepared is null)
                    {
                        w.WriteByte(0);
                        w.WriteLongString(query!);
                        WriteValues(w, values, null);
                    }
                    else
                    {
                        w.WriteByte(1);
                        w.WriteShortBytes(prepared.Id);
                        WriteValues(w, values, prepared.Variables);
                    }
                }
                w.WriteShort((ushort)consistency);
                var flags = QueryFlags.None;
                if (options.SerialConsistency is not null) flags |= QueryFlags.SerialConsistency;
                if (options.Timestamp is not null) flags |= QueryFlags.DefaultTimestamp;
                w.WriteByte((byte)flags);
                if (options.SerialConsistency is { } serial) w.WriteShort((ushort)serial);
                if (options.Timestamp is { } timestamp) w.WriteLong(timestamp);
            }, options.IsIdempotent ?? false, options.Timeout,
                id => statements.Select(s => s.Prepared).FirstOrDefault(p => p is not null && p.Id.AsSpan().SequenceEqual(id)),
                activity, cancellationToken);
            ExpectResult(frame);
            Record(activity, started, "BATCH", null);
        }
        catch (Exception ex)
        {
            Record(activity, started, "BATCH", ex);
            throw;
        }
    }

    /// <summary>All rows of a query, fetching further pages as the caller enumerates.</summary>
    public async IAsyncEnumerable<CqlRow> QueryAsync(string cql, IReadOnlyList<object?>? values = null, CqlQueryOptions? options = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        options ??= Defaults;
        do
        {
            var page = await ExecuteAsync(cql, values, options, cancellationToken);
            foreach (var row in page.Rows) yield return row;
            options = options with { PagingState = page.PagingState };
        } while (options.PagingState is not null);
    }

    /// <summary>All rows of a prepared query, fetching further pages as the caller enumerates.</summary>
    public async IAsyncEnumerable<CqlRow> QueryAsync(CqlPreparedStatement statement, IReadOnlyList<object?>? values = null, CqlQueryOptions? options = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        options ??= Defaults;
        do
        {
            var page = await ExecuteAsync(statement, values, options, cancellationToken);
            foreach (var row in page.Rows) yield return row;
            options = options with { PagingState = page.PagingState };
        } while (options.PagingState is not null);
    }

    private static readonly CqlQueryOptions Defaults = new();

    private static bool IsSelect(string cql) => cql.AsSpan().TrimStart().StartsWith("SELECT", StringComparison.OrdinalIgnoreCase);

    private static object?[] EncodeInferred(IReadOnlyList<object?> values)
    {
        // Simple statements have no metadata: each value is typed from its .NET type.
        var encoded = new object?[values.Count];
        for (var i = 0; i < values.Count; i++)
        {
            var value = values[i];
            encoded[i] = value is null || ReferenceEquals(value, CqlUnset.Value)
                ? value
                : new InferredValue(CqlValueCodec.InferType(value, $"value {i}"), value);
        }
        return encoded;
    }

    private sealed record InferredValue(CqlType Type, object Value);

    private void WriteQueryParameters(CqlFrameWriter w, CqlConsistency consistency, CqlQueryOptions options, IReadOnlyList<object?>? values, CqlColumnSet? variables, bool skipMetadata = false)
    {
        w.WriteShort((ushort)consistency);
        var flags = QueryFlags.PageSize;
        if (skipMetadata) flags |= QueryFlags.SkipMetadata;
        if (values is { Count: > 0 }) flags |= QueryFlags.Values;
        if (options.PagingState is not null) flags |= QueryFlags.PagingState;
        if (options.SerialConsistency is not null) flags |= QueryFlags.SerialConsistency;
        if (options.Timestamp is not null) flags |= QueryFlags.DefaultTimestamp;
        w.WriteByte((byte)flags);
        if (values is { Count: > 0 }) WriteValues(w, values, variables);
        w.WriteInt(options.PageSize ?? _options.DefaultPageSize);
        if (options.PagingState is { } state) w.WriteBytes(state);
        if (options.SerialConsistency is { } serial) w.WriteShort((ushort)serial);
        if (options.Timestamp is { } timestamp) w.WriteLong(timestamp);
    }

    private static void WriteValues(CqlFrameWriter w, IReadOnlyList<object?> values, CqlColumnSet? variables)
    {
        w.WriteShort((ushort)values.Count);
        for (var i = 0; i < values.Count; i++)
        {
            switch (values[i])
            {
                case InferredValue inferred:
                    CqlValueCodec.WriteValue(w, inferred.Type, inferred.Value, $"value {i}");
                    break;
                case var value when variables is not null:
                    CqlValueCodec.WriteValue(w, variables[i].Type, value, variables[i].Name);
                    break;
                case null:
                    w.WriteInt(-1);
                    break;
                default:
                    w.WriteInt(-2);
                    break;
            }
        }
    }

    private static CqlFrame ExpectResult(CqlFrame frame) =>
        frame.Opcode == CqlOpcode.Result ? frame : throw new CqlProtocolException($"Expected RESULT, got {frame.Opcode}.");

    private CqlPreparedStatement ReadPrepared(CqlFrame frame, string cql, string? keyspace)
    {
        var reader = frame.OpenBody();
        var kind = (CqlResultKind)reader.ReadInt();
        if (kind != CqlResultKind.Prepared) throw new CqlProtocolException($"PREPARE answered with result kind {kind}.");
        var id = reader.ReadShortBytes();
        var flags = (RowsFlags)reader.ReadInt();
        var count = reader.ReadInt();
        var pkIndexes = Array.Empty<int>();
        if (frame.ProtocolVersion >= 4)
        {
            pkIndexes = new int[reader.ReadInt()];
            for (var i = 0; i < pkIndexes.Length; i++) pkIndexes[i] = reader.ReadShort();
        }
        var variables = CqlColumnSet.ReadColumnSpecs(reader, flags, count);
        var (resultColumns, _, _) = CqlColumnSet.ReadRowsMetadata(reader);
        return new CqlPreparedStatement(cql, keyspace, id, variables, resultColumns ?? CqlColumnSet.Empty, pkIndexes);
    }

    private void AfterResult(CqlResult result)
    {
        if (result.Kind == CqlResultKind.SetKeyspace && result.Keyspace is { } keyspace)
        {
            _keyspace = keyspace;
        }
    }

    /// <summary>Sends a request with the retry policy; returns the first non-error response.</summary>
    private async Task<CqlFrame> RunAsync(CqlOpcode opcode, Action<CqlFrameWriter> body, bool idempotent, TimeSpan? timeout,
        Func<byte[], CqlPreparedStatement?>? findPrepared, Activity? activity, CancellationToken cancellationToken)
    {
        var requestTimeout = timeout ?? _options.RequestTimeout;
        var reprepared = false;
        for (var attempt = 0; ; )
        {
            var connection = await GetConnectionAsync(cancellationToken);
            Exception error;
            try
            {
                if (opcode != CqlOpcode.Prepare || _keyspace is not null) await EnsureKeyspaceAsync(connection, requestTimeout, cancellationToken);
                var frame = await connection.SendAsync(opcode, body, requestTimeout, cancellationToken);
                if (frame.Opcode != CqlOpcode.Error)
                {
                    if (frame.Opcode == CqlOpcode.Result && opcode == CqlOpcode.Query && connection.Keyspace != _keyspace)
                    {
                        // A USE statement switched this connection; the others follow before their next request.
                        var peek = frame.OpenBody();
                        if ((CqlResultKind)peek.ReadInt() == CqlResultKind.SetKeyspace) connection.Keyspace = peek.ReadString();
                    }
                    activity?.SetTag("server.address", connection.Endpoint);
                    return frame;
                }
                var serverError = CqlServerException.Read(frame);
                if (serverError is CqlUnpreparedException unprepared && !reprepared && findPrepared?.Invoke(unprepared.PreparedId) is { } statement)
                {
                    // The host lost the statement (restart or cache eviction): prepare it again there and resend once.
                    reprepared = true;
                    _logger.LogInformation("Re-preparing statement on {Endpoint} after UNPREPARED: {Statement}", connection.Endpoint, statement.Query);
                    await RePrepareAsync(connection, statement, requestTimeout, cancellationToken);
                    continue;
                }
                error = serverError;
            }
            catch (Exception ex) when (ex is CqlConnectionException or CqlRequestTimeoutException
                or CqlReadTimeoutException or CqlWriteTimeoutException or CqlUnavailableException)
            {
                // Also the implicit USE before the request: it follows the same retry policy.
                error = ex;
            }

            var retryable = error is CqlReadTimeoutException or CqlWriteTimeoutException or CqlUnavailableException
                or CqlConnectionException or CqlRequestTimeoutException;
            if (!retryable || !idempotent || attempt >= _options.MaxRetries)
            {
                ExceptionDispatchInfo.Throw(error);
            }
            attempt++;
            CqlTelemetry.Retries.Add(1, new KeyValuePair<string, object?>("error.type", error.GetType().Name));
            activity?.AddEvent(new ActivityEvent("retry", tags: new ActivityTagsCollection { ["attempt"] = attempt, ["error.type"] = error.GetType().Name }));
            _logger.LogWarning("Retrying idempotent {Opcode} (attempt {Attempt} of {MaxRetries}) after {ErrorType}: {ErrorMessage}",
                opcode, attempt, _options.MaxRetries, error.GetType().Name, error.Message);
            await Task.Delay(_options.RetryBaseDelay * (1 << Math.Min(attempt - 1, 10)), cancellationToken);
        }
    }

    private async Task RePrepareAsync(CqlConnection connection, CqlPreparedStatement statement, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var frame = await connection.SendAsync(CqlOpcode.Prepare, w => w.WriteLongString(statement.Query), timeout, cancellationToken);
        if (frame.Opcode == CqlOpcode.Error) throw CqlServerException.Read(frame);
        var fresh = ReadPrepared(frame, statement.Query, statement.Keyspace);
        statement.Id = fresh.Id;
        statement.ResultColumns = fresh.ResultColumns;
    }

    private async Task EnsureKeyspaceAsync(CqlConnection connection, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var keyspace = _keyspace;
        if (keyspace is null || connection.Keyspace == keyspace) return;
        await connection.KeyspaceLock.WaitAsync(cancellationToken);
        try
        {
            if (connection.Keyspace == keyspace) return;
            var frame = await connection.SendAsync(CqlOpcode.Query, w =>
            {
                w.WriteLongString($"USE {QuoteIdentifierIfNeeded(keyspace)}");
                w.WriteShort((ushort)CqlConsistency.One);
                w.WriteByte(0);
            }, timeout, cancellationToken);
            if (frame.Opcode == CqlOpcode.Result)
            {
                connection.Keyspace = keyspace;
                return;
            }
            var error = CqlServerException.Read(frame);
            // The keyspace may not exist yet (the application creates it): statements then run
            // without one and the server says so if they need it; USE is tried again next time.
            if (error.Code != CqlErrorCode.Invalid) throw error;
            _logger.LogDebug("Keyspace {Keyspace} is not usable on {Endpoint} yet: {Message}", keyspace, connection.Endpoint, error.ServerMessage);
        }
        finally
        {
            connection.KeyspaceLock.Release();
        }
    }

    /// <summary>Plain identifiers stay unquoted (CQL folds them to lower case, as CREATE did); others are quoted.</summary>
    internal static string QuoteIdentifierIfNeeded(string identifier) =>
        identifier.Length > 0 && char.IsAsciiLetter(identifier[0]) && identifier.All(c => char.IsAsciiLetterOrDigit(c) || c == '_')
            ? identifier
            : $"\"{identifier.Replace("\"", "\"\"", StringComparison.Ordinal)}\"";

    private async ValueTask<CqlConnection> GetConnectionAsync(CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_disposed.IsCancellationRequested, this);
        Exception? last = null;
        var start = (int)((uint)Interlocked.Increment(ref _nextHost) % (uint)_hosts.Length);
        for (var i = 0; i < _hosts.Length; i++)
        {
            var host = _hosts[(start + i) % _hosts.Length];
            try
            {
                return await host.GetAsync(cancellationToken);
            }
            catch (CqlConnectionException ex)
            {
                last = ex;
            }
        }
        throw new CqlNoHostAvailableException(
            $"No Cassandra host is reachable (tried {string.Join(", ", _hosts.Select(h => h.Endpoint))}): {last?.Message}", last);
    }

    private Activity? StartActivity(string statement, CqlConsistency? consistency, string? operation = null)
    {
        var activitySource = CqlTelemetry.Source;
        if (!activitySource.HasListeners()) return null;
        operation ??= FirstWord(statement);
        var activity = activitySource.StartActivity(operation, ActivityKind.Client);
        if (activity is null) return null;
        activity.SetTag("db.system", "cassandra");
        activity.SetTag("db.statement", statement.Length > 2000 ? statement[..2000] : statement);
        activity.SetTag("db.operation", operation);
        if (_keyspace is { } keyspace) activity.SetTag("db.name", keyspace);
        if (consistency is { } level) activity.SetTag("db.cassandra.consistency_level", ConsistencyName(level));
        return activity;
    }

    /// <summary>Protocol spelling of a consistency level (LOCAL_QUORUM, not LocalQuorum).</summary>
    public static string ConsistencyName(CqlConsistency level) =>
        string.Concat(level.ToString().Select((c, i) => i > 0 && char.IsUpper(c) ? "_" + c : c.ToString())).ToUpperInvariant();

    internal static string FirstWord(string statement)
    {
        var span = statement.AsSpan().TrimStart();
        var end = span.IndexOfAny(' ', '\n', '\t');
        return (end < 0 ? span : span[..end]).ToString().ToUpperInvariant();
    }

    private static void Record(Activity? activity, long started, string operationName, Exception? error)
    {
        var seconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
        var operation = new KeyValuePair<string, object?>("db.operation", operationName);
        if (error is null)
        {
            CqlTelemetry.Duration.Record(seconds, operation);
            return;
        }
        var errorType = new KeyValuePair<string, object?>("error.type", error is CqlServerException server ? server.Code.ToString() : error.GetType().Name);
        CqlTelemetry.Duration.Record(seconds, operation, errorType);
        CqlTelemetry.Errors.Add(1, operation, errorType);
        if (activity is not null)
        {
            activity.SetStatus(ActivityStatusCode.Error, error.Message);
            activity.SetTag("error.type", errorType.Value);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_disposed.IsCancellationRequested) return;
        _disposed.Cancel();
        foreach (var host in _hosts) await host.DisposeAsync();
        _disposed.Dispose();
    }

    /// <summary>The connections to one host, opened lazily, replaced after failures with exponential backoff.</summary>
    private sealed class HostPool(CqlSession session, string host, int port) : IAsyncDisposable
    {
        private const int GrowWhenInFlightAbove = 16;
        private readonly CqlConnection?[] _connections = new CqlConnection?[session._options.ConnectionsPerHost];
        private readonly SemaphoreSlim _openLock = new(1, 1);
        private TimeSpan _backoff;
        private long _retryAtTicks;
        private Exception? _lastError;

        public string Endpoint { get; } = $"{host}:{port}";

        public async ValueTask<CqlConnection> GetAsync(CancellationToken cancellationToken)
        {
            var (best, open) = PickOpen();
            if (best is not null && (open == _connections.Length || best.InFlight < GrowWhenInFlightAbove)) return best;
            if (best is not null)
            {
                // Busy: grow the pool in the background and keep using what is open.
                if (_openLock.Wait(0)) _ = Task.Run(() => OpenLockedAsync(CancellationToken.None));
                return best;
            }
            var wait = _retryAtTicks - Environment.TickCount64;
            if (wait > 0)
                throw new CqlConnectionException($"{Endpoint} is down, next reconnect attempt in {wait} ms: {_lastError?.Message}", _lastError);
            await _openLock.WaitAsync(cancellationToken);
            (best, _) = PickOpen();
            if (best is not null)
            {
                _openLock.Release();
                return best;
            }
            return await OpenLockedAsync(cancellationToken);
        }

        private (CqlConnection? Best, int Open) PickOpen()
        {
            CqlConnection? best = null;
            var open = 0;
            foreach (var connection in _connections)
            {
                if (connection is null || connection.IsClosed) continue;
                open++;
                if (best is null || connection.InFlight < best.InFlight) best = connection;
            }
            return (best, open);
        }

        /// <summary>Opens a connection into a free slot; the caller holds <see cref="_openLock"/>.</summary>
        private async Task<CqlConnection> OpenLockedAsync(CancellationToken cancellationToken)
        {
            try
            {
                var connection = await CqlConnection.OpenAsync(host, port, session._options, (byte)session.ProtocolVersion, cancellationToken);
                Volatile.Write(ref session._protocolVersion, connection.ProtocolVersion);
                CqlTelemetry.ConnectionsOpened.Add(1);
                var slot = Array.FindIndex(_connections, c => c is null || c.IsClosed);
                if (slot < 0)
                {
                    await connection.DisposeAsync();
                    return PickOpen().Best ?? throw new CqlConnectionException($"No open connection to {Endpoint}.");
                }
                var old = _connections[slot];
                _connections[slot] = connection;
                if (old is not null) _ = old.DisposeAsync().AsTask();
                if (_backoff > TimeSpan.Zero)
                    session._logger.LogInformation("Reconnected to {Endpoint} with protocol v{Version}", Endpoint, connection.ProtocolVersion);
                _backoff = TimeSpan.Zero;
                _lastError = null;
                return connection;
            }
            catch (CqlConnectionException ex)
            {
                _backoff = _backoff == TimeSpan.Zero
                    ? session._options.ReconnectBaseDelay
                    : TimeSpan.FromTicks(Math.Min(_backoff.Ticks * 2, session._options.ReconnectMaxDelay.Ticks));
                _retryAtTicks = Environment.TickCount64 + (long)_backoff.TotalMilliseconds;
                _lastError = ex;
                session._logger.LogWarning("Cannot connect to {Endpoint}, next attempt in {BackoffMs} ms: {ErrorMessage}", Endpoint, _backoff.TotalMilliseconds, ex.Message);
                throw;
            }
            finally
            {
                _openLock.Release();
            }
        }

        public async ValueTask DisposeAsync()
        {
            for (var i = 0; i < _connections.Length; i++)
            {
                if (_connections[i] is { } connection) await connection.DisposeAsync();
                _connections[i] = null;
            }
        }
    }
}
