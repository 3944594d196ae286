using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using CustomerData.Cql.Protocol;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace CustomerData.Cql.DevServer;

/// <summary>Settings of the dev server (configuration section <c>DevServer</c>).</summary>
public sealed class CqlDevServerOptions
{
    /// <summary>CQL listen port; 0 picks a free one (see <see cref="CqlDevServer.Port"/>).</summary>
    public int Port { get; set; } = 9042;

    /// <summary>Address to listen on (default loopback).</summary>
    public string Host { get; set; } = "127.0.0.1";

    /// <summary>Persistence file; empty keeps data in memory only.</summary>
    public string? DataFile { get; set; }

    /// <summary>How often changed data is written to <see cref="DataFile"/> (and always at stop).</summary>
    public TimeSpan PersistInterval { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>When both are set, clients must authenticate (PasswordAuthenticator, SASL PLAIN).</summary>
    public string? Username { get; set; }
    public string? Password { get; set; }

    /// <summary>When set (in-process only), clients must connect with TLS using this certificate.</summary>
    public System.Security.Cryptography.X509Certificates.X509Certificate2? Certificate { get; set; }

    /// <summary>Highest protocol version accepted (3 or 4); lower it to exercise client negotiation.</summary>
    public int MaxProtocolVersion { get; set; } = 4;

    /// <summary>Faults applied from the start (for runs under the AppHost).</summary>
    public CqlDevFaultOptions Faults { get; set; } = new();
}

public sealed class CqlDevFaultOptions
{
    /// <summary>The next N data requests fail with <see cref="Kind"/>.</summary>
    public int FailNext { get; set; }
    public CqlFaultKind Kind { get; set; } = CqlFaultKind.WriteTimeout;

    /// <summary>Added to every data request.</summary>
    public int LatencyMs { get; set; }
}

public enum CqlFaultKind
{
    WriteTimeout,
    ReadTimeout,
    Unavailable,
}

/// <summary>Fault injection, controllable while the server runs.</summary>
public sealed class CqlDevFaults
{
    private int _remaining;
    private volatile int _kind;
    private long _latencyTicks;

    /// <summary>Makes the next <paramref name="count"/> QUERY/EXECUTE/BATCH requests on user tables fail with <paramref name="kind"/>.</summary>
    public void FailNext(int count, CqlFaultKind kind)
    {
        _kind = (int)kind;
        Volatile.Write(ref _remaining, count);
    }

    public int Remaining => Math.Max(0, Volatile.Read(ref _remaining));

    public TimeSpan Latency
    {
        get => TimeSpan.FromTicks(Interlocked.Read(ref _latencyTicks));
        set => Interlocked.Exchange(ref _latencyTicks, value.Ticks);
    }

    public void Reset()
    {
        Volatile.Write(ref _remaining, 0);
        Latency = TimeSpan.Zero;
    }

    internal CqlFaultKind? TakeFault()
    {
        if (Volatile.Read(ref _remaining) <= 0) return null;
        return Interlocked.Decrement(ref _remaining) >= 0 ? (CqlFaultKind)_kind : null;
    }
}

/// <summary>
/// A CQL native protocol (v3/v4) server holding data in memory, for tests and local runs only:
/// one node, no replication, equality-only WHERE clauses. Not a database.
/// </summary>
public sealed class CqlDevServer : IAsyncDisposable
{
    internal const string ReleaseVersion = "3.11.16";
    private static readonly Guid SchemaVersion = Guid.Parse("59adb24e-f3cd-3e02-97f0-5b395827453f");
    private static readonly Guid HostId = Guid.Parse("2a8d5c3e-7f0b-4c1e-9a5d-0c3b6f8e1d42");

    private readonly CqlDevServerOptions _options;
    private readonly ILogger _logger;
    private readonly Socket _listener;
    private readonly DevCatalog _catalog = new();
    private readonly DevExecutor _executor;
    private readonly ConcurrentDictionary<string, PreparedEntry> _prepared = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, Statement> _parsed = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<Connection, byte> _connections = new();
    private readonly CancellationTokenSource _stopping = new();
    private Task _acceptLoop = Task.CompletedTask;
    private Task _persistLoop = Task.CompletedTask;
    private long _savedVersion;
    private int _stopped;

    internal sealed record PreparedEntry(string Query, string? Keyspace, Statement Statement, PreparedShape Shape);

    private CqlDevServer(CqlDevServerOptions options, ILogger logger)
    {
        _options = options;
        _logger = logger;
        _executor = new DevExecutor(_catalog);
        _listener = new Socket(SocketType.Stream, ProtocolType.Tcp);
    }

    /// <summary>The bound CQL port.</summary>
    public int Port { get; private set; }
    public string Host => _options.Host;
    public CqlDevFaults Faults { get; } = new();

    private long _optionsRequests;

    /// <summary>OPTIONS messages received (drivers send them at connect and as heartbeats).</summary>
    public long OptionsRequests => Interlocked.Read(ref _optionsRequests);

    /// <summary><c>Contact Points=host:port</c> plus credentials when auth is on.</summary>
    public string ConnectionString(string? keyspace = null) =>
        $"Contact Points={Host}:{Port}" + (keyspace is null ? "" : $";Keyspace={keyspace}") +
        (AuthEnabled ? $";Username={_options.Username};Password={_options.Password}" : "");

    private bool AuthEnabled => !string.IsNullOrEmpty(_options.Username) && _options.Password is not null;

    public static async Task<CqlDevServer> StartAsync(CqlDevServerOptions? options = null, ILogger? logger = null, CancellationToken cancellationToken = default)
    {
        var server = new CqlDevServer(options ?? new CqlDevServerOptions { Port = 0 }, logger ?? NullLogger.Instance);
        await server.StartCoreAsync(cancellationToken);
        return server;
    }

    private Task StartCoreAsync(CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        CreateSystemTables();
        if (!string.IsNullOrEmpty(_options.DataFile) && File.Exists(_options.DataFile))
        {
            _catalog.Load(_options.DataFile);
            _logger.LogInformation("CQL dev server loaded {DataFile}", _options.DataFile);
        }
        _savedVersion = _catalog.Version;
        _listener.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
        _listener.Bind(new IPEndPoint(IPAddress.Parse(_options.Host), _options.Port));
        _listener.Listen(512);
        Port = ((IPEndPoint)_listener.LocalEndPoint!).Port;
        if (_options.Faults.FailNext > 0) Faults.FailNext(_options.Faults.FailNext, _options.Faults.Kind);
        if (_options.Faults.LatencyMs > 0) Faults.Latency = TimeSpan.FromMilliseconds(_options.Faults.LatencyMs);
        _logger.LogWarning(
            "CQL dev server listening on {Host}:{Port} (protocol v3/v4, auth {Auth}, TLS {Tls}, data file {DataFile}). FOR TESTS AND LOCAL DEVELOPMENT ONLY: in-memory, single node, not a database.",
            _options.Host, Port, AuthEnabled ? "on" : "off", _options.Certificate is null ? "off" : "on", string.IsNullOrEmpty(_options.DataFile) ? "(memory only)" : _options.DataFile);
        _acceptLoop = Task.Run(AcceptLoopAsync, CancellationToken.None);
        if (!string.IsNullOrEmpty(_options.DataFile)) _persistLoop = Task.Run(PersistLoopAsync, CancellationToken.None);
        return Task.CompletedTask;
    }

    private void CreateSystemTables()
    {
        _catalog.CreateKeyspace("system");
        _catalog.CreateKeyspace("system_schema");
        var text = CqlType.Text;
        DevColumn Col(string name, CqlType type, string typeText) => new(name, type, typeText);
        var local = new DevTable("system", "local",
        [
            Col("key", text, "text"), Col("bootstrapped", text, "text"), Col("broadcast_address", new CqlType(CqlTypeCode.Inet), "inet"),
            Col("cluster_name", text, "text"), Col("cql_version", text, "text"), Col("data_center", text, "text"),
            Col("host_id", CqlType.Uuid, "uuid"), Col("listen_address", new CqlType(CqlTypeCode.Inet), "inet"),
            Col("native_protocol_version", text, "text"), Col("partitioner", text, "text"), Col("rack", text, "text"),
            Col("release_version", text, "text"), Col("rpc_address", new CqlType(CqlTypeCode.Inet), "inet"),
            Col("schema_version", CqlType.Uuid, "uuid"), Col("tokens", new CqlType(CqlTypeCode.Set, [text]), "set<text>"),
        ], ["key"], []);
        var address = IPAddress.Parse(_options.Host).GetAddressBytes();
        var row = new byte[]?[]
        {
            Utf8("local"), Utf8("COMPLETED"), address, Utf8("CQL dev server"), Utf8("3.4.4"), Utf8("datacenter1"),
            CqlValueCodec.Encode(CqlType.Uuid, HostId), address, Utf8("4"), Utf8("org.apache.cassandra.dht.Murmur3Partitioner"),
            Utf8("rack1"), Utf8(ReleaseVersion), address, CqlValueCodec.Encode(CqlType.Uuid, SchemaVersion), TextSet("0"),
        };
        local.Put(local.EncodeKey(row), row);
        _catalog.AddTable(local);
        _catalog.AddTable(new DevTable("system", "peers",
        [
            Col("peer", new CqlType(CqlTypeCode.Inet), "inet"), Col("data_center", text, "text"), Col("host_id", CqlType.Uuid, "uuid"),
            Col("preferred_ip", new CqlType(CqlTypeCode.Inet), "inet"), Col("rack", text, "text"), Col("release_version", text, "text"),
            Col("rpc_address", new CqlType(CqlTypeCode.Inet), "inet"), Col("schema_version", CqlType.Uuid, "uuid"),
            Col("tokens", new CqlType(CqlTypeCode.Set, [text]), "set<text>"),
        ], ["peer"], []));
        // Drivers read schema tables at connect; the dev server answers them with no rows.
        foreach (var (name, keys) in new (string, string[])[]
        {
            ("keyspaces", ["keyspace_name"]), ("tables", ["keyspace_name", "table_name"]),
            ("columns", ["keyspace_name", "table_name", "column_name"]), ("types", ["keyspace_name", "type_name"]),
            ("functions", ["keyspace_name", "function_name"]), ("aggregates", ["keyspace_name", "aggregate_name"]),
            ("triggers", ["keyspace_name", "table_name", "trigger_name"]), ("indexes", ["keyspace_name", "table_name", "index_name"]),
            ("views", ["keyspace_name", "view_name"]),
        })
        {
            _catalog.AddTable(new DevTable("system_schema", name, [.. keys.Select(k => Col(k, text, "text"))], [keys[0]], keys[1..]));
        }
    }

    private static byte[] Utf8(string value) => Encoding.UTF8.GetBytes(value);

    private static byte[] TextSet(params string[] values)
    {
        var writer = new CqlFrameWriter(64);
        writer.WriteInt(values.Length);
        foreach (var value in values) writer.WriteBytes(Utf8(value));
        return writer.Written.ToArray();
    }

    private async Task AcceptLoopAsync()
    {
        while (!_stopping.IsCancellationRequested)
        {
            Socket socket;
            try
            {
                socket = await _listener.AcceptAsync(_stopping.Token);
            }
            catch (Exception) when (_stopping.IsCancellationRequested)
            {
                return;
            }
            catch (SocketException ex)
            {
                _logger.LogWarning("CQL dev server accept failed: {Message}", ex.Message);
                continue;
            }
            socket.NoDelay = true;
            var connection = new Connection(this, socket);
            _connections[connection] = 0;
            _ = Task.Run(async () =>
            {
                try { await connection.RunAsync(_stopping.Token); }
                finally { _connections.TryRemove(connection, out _); }
            });
        }
    }

    private async Task PersistLoopAsync()
    {
        try
        {
            while (!_stopping.IsCancellationRequested)
            {
                await Task.Delay(_options.PersistInterval, _stopping.Token);
                SaveIfChanged();
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    private readonly Lock _saveLock = new();

    /// <summary>Writes the data file now if anything changed since the last save.</summary>
    public void SaveIfChanged()
    {
        if (string.IsNullOrEmpty(_options.DataFile)) return;
        lock (_saveLock)
        {
            var version = _catalog.Version;
            if (version == Interlocked.Read(ref _savedVersion)) return;
            try
            {
                _catalog.Save(_options.DataFile);
                Interlocked.Exchange(ref _savedVersion, version);
            }
            catch (IOException ex)
            {
                _logger.LogError(ex, "CQL dev server could not save {DataFile}", _options.DataFile);
            }
        }
    }

    /// <summary>Stops listening, closes every client connection and saves the data file.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _stopped, 1) == 1) return;
        _stopping.Cancel();
        _listener.Dispose();
        foreach (var connection in _connections.Keys) connection.Abort();
        try { await Task.WhenAll(_acceptLoop, _persistLoop).WaitAsync(TimeSpan.FromSeconds(5)); } catch (Exception) { /* stopping */ }
        SaveIfChanged();
        _logger.LogInformation("CQL dev server on port {Port} stopped", Port);
    }

    // ---------------------------------------------------------------- request handling

    private Statement ParseCached(string query)
    {
        if (_parsed.TryGetValue(query, out var statement)) return statement;
        statement = CqlParser.Parse(query);
        if (_parsed.Count > 10_000) _parsed.Clear();
        _parsed[query] = statement;
        return statement;
    }

    private sealed class RequestState
    {
        public byte Version;
        public bool Started;
        public bool Authenticated;
        public string? Keyspace;
    }

    /// <summary>Handles one request frame, appending the response frame to <paramref name="output"/>.</summary>
    private void Handle(CqlFrame frame, RequestState state, CqlFrameWriter output)
    {
        var responseVersion = (byte)(state.Version | CqlFrame.ResponseBit);
        var start = output.BeginFrame(responseVersion, CqlOpcode.Result, frame.Stream);
        try
        {
            var reader = frame.OpenBody();
            switch (frame.Opcode)
            {
                case CqlOpcode.Options:
                    Interlocked.Increment(ref _optionsRequests);
                    SetOpcode(output, start, CqlOpcode.Supported);
                    output.WriteStringMultimap([
                        new("CQL_VERSION", ["3.4.4"]), new("COMPRESSION", []), new("PROTOCOL_VERSIONS", ["3/v3", "4/v4"])]);
                    break;
                case CqlOpcode.Startup:
                {
                    var startup = reader.ReadStringMap();
                    if (startup.TryGetValue("COMPRESSION", out var compression) && compression.Length > 0)
                        throw new DevCqlError(CqlErrorCode.ProtocolError, $"Unsupported compression '{compression}' (the CQL dev server does not compress)");
                    state.Started = true;
                    if (AuthEnabled && !state.Authenticated)
                    {
                        SetOpcode(output, start, CqlOpcode.Authenticate);
                        output.WriteString("org.apache.cassandra.auth.PasswordAuthenticator");
                    }
                    else SetOpcode(output, start, CqlOpcode.Ready);
                    break;
                }
                case CqlOpcode.AuthResponse:
                {
                    var token = reader.ReadBytes() ?? [];
                    // SASL PLAIN: [authzid] \0 user \0 password
                    var parts = Encoding.UTF8.GetString(token).Split('\0');
                    var user = parts.Length >= 3 ? parts[^2] : "";
                    var password = parts.Length >= 3 ? parts[^1] : "";
                    if (!AuthEnabled || (user == _options.Username && password == _options.Password))
                    {
                        state.Authenticated = true;
                        SetOpcode(output, start, CqlOpcode.AuthSuccess);
                        output.WriteInt(-1);
                    }
                    else
                    {
                        _logger.LogWarning("CQL dev server rejected credentials for user {User}", user);
                        throw new DevCqlError(CqlErrorCode.AuthenticationError, $"Provided username {user} and/or password are incorrect");
                    }
                    break;
                }
                case CqlOpcode.Register:
                    RequireReady(state);
                    SetOpcode(output, start, CqlOpcode.Ready);
                    break;
                case CqlOpcode.Query:
                {
                    RequireReady(state);
                    var query = reader.ReadLongString();
                    var parameters = QueryParameters.Read(reader, state.Version);
                    var statement = ParseCached(query);
                    InjectFault(statement, parameters.Consistency, "SIMPLE");
                    WriteResult(output, _executor.Execute(statement, ref state.Keyspace, parameters.Values, parameters.PageSize, parameters.PagingState), false, state.Version);
                    break;
                }
                case CqlOpcode.Prepare:
                {
                    RequireReady(state);
                    var query = reader.ReadLongString();
                    var statement = ParseCached(query);
                    var shape = _executor.Shape(statement, state.Keyspace);
                    var id = MD5.HashData(Encoding.UTF8.GetBytes((state.Keyspace ?? "") + query));
                    _prepared[Convert.ToHexString(id)] = new PreparedEntry(query, state.Keyspace, statement, shape);
                    output.WriteInt((int)CqlResultKind.Prepared);
                    output.WriteShortBytes(id);
                    WritePreparedMetadata(output, shape, state.Version);
                    shape.ResultColumns.Write(output, shape.ResultColumns.Count == 0 ? RowsFlags.NoMetadata : RowsFlags.None, null);
                    break;
                }
                case CqlOpcode.Execute:
                {
                    RequireReady(state);
                    var id = reader.ReadShortBytes();
                    var parameters = QueryParameters.Read(reader, state.Version);
                    if (!_prepared.TryGetValue(Convert.ToHexString(id), out var entry))
                        throw new DevUnprepared(id);
                    InjectFault(entry.Statement, parameters.Consistency, "SIMPLE");
                    var keyspace = entry.Keyspace ?? state.Keyspace;
                    WriteResult(output, _executor.Execute(entry.Statement, ref keyspace, parameters.Values, parameters.PageSize, parameters.PagingState),
                        parameters.SkipMetadata, state.Version);
                    break;
                }
                case CqlOpcode.Batch:
                    RequireReady(state);
                    HandleBatch(reader, state);
                    output.WriteInt((int)CqlResultKind.Void);
                    break;
                default:
                    throw new DevCqlError(CqlErrorCode.ProtocolError, $"Unexpected message {frame.Opcode} from a client");
            }
        }
        catch (Exception ex)
        {
            output.Reset(start);
            output.BeginFrame(responseVersion, CqlOpcode.Error, frame.Stream);
            WriteError(output, ex);
        }
        output.EndFrame(start);
    }

    private void RequireReady(RequestState state)
    {
        if (!state.Started) throw new DevCqlError(CqlErrorCode.ProtocolError, "Unexpected message, expecting STARTUP or OPTIONS");
        if (AuthEnabled && !state.Authenticated) throw new DevCqlError(CqlErrorCode.ProtocolError, "Authentication is required: answer AUTHENTICATE with AUTH_RESPONSE first");
    }

    private static void SetOpcode(CqlFrameWriter output, int frameStart, CqlOpcode opcode) => output.Buffer[frameStart + 4] = (byte)opcode;

    private void InjectFault(Statement statement, CqlConsistency consistency, string writeType)
    {
        if (DevExecutor.TargetTable(statement) is { Keyspace: { } ks } && DevCatalog.IsSystemKeyspace(ks)) return;
        if (Faults.TakeFault() is not { } fault) return;
        throw new DevFault(fault, consistency, statement is SelectStatement, writeType);
    }

    private void HandleBatch(CqlReader reader, RequestState state)
    {
        var type = (CqlBatchType)reader.ReadByte();
        var count = reader.ReadShort();
        var items = new List<(Statement Statement, string? Keyspace, byte[]?[] Values)>(count);
        for (var i = 0; i < count; i++)
        {
            var kind = reader.ReadByte();
            Statement statement;
            string? keyspace = state.Keyspace;
            if (kind == 0) statement = ParseCached(reader.ReadLongString());
            else
            {
                var id = reader.ReadShortBytes();
                if (!_prepared.TryGetValue(Convert.ToHexString(id), out var entry)) throw new DevUnprepared(id);
                statement = entry.Statement;
                keyspace = entry.Keyspace ?? keyspace;
            }
            if (statement is not (InsertStatement or UpdateStatement or DeleteStatement))
                throw DevCqlError.Invalid("Only INSERT, UPDATE and DELETE statements are allowed in a BATCH");
            var valueCount = reader.ReadShort();
            var values = new byte[]?[valueCount];
            for (var v = 0; v < valueCount; v++) values[v] = QueryParameters.ReadValue(reader);
            items.Add((statement, keyspace, values));
        }
        var consistency = (CqlConsistency)reader.ReadShort();
        if (Faults.TakeFault() is { } fault)
            throw new DevFault(fault, consistency, false, type == CqlBatchType.Logged ? "BATCH" : "UNLOGGED_BATCH");
        foreach (var (statement, keyspace, values) in items)
        {
            var ks = keyspace;
            _executor.Execute(statement, ref ks, values, 0, null);
        }
    }

    private static void WritePreparedMetadata(CqlFrameWriter output, PreparedShape shape, byte version)
    {
        var variables = shape.Variables;
        var global = variables.Count > 0 && variables.Columns.All(c => c.Keyspace == variables[0].Keyspace && c.Table == variables[0].Table);
        output.WriteInt(global ? (int)RowsFlags.GlobalTablesSpec : 0);
        output.WriteInt(variables.Count);
        if (version >= 4)
        {
            output.WriteInt(shape.PartitionKeyIndexes.Length);
            foreach (var index in shape.PartitionKeyIndexes) output.WriteShort((ushort)index);
        }
        if (global)
        {
            output.WriteString(variables[0].Keyspace);
            output.WriteString(variables[0].Table);
        }
        foreach (var column in variables.Columns)
        {
            if (!global)
            {
                output.WriteString(column.Keyspace);
                output.WriteString(column.Table);
            }
            output.WriteString(column.Name);
            column.Type.Write(output);
        }
    }

    private static void WriteResult(CqlFrameWriter output, ExecResult result, bool skipMetadata, byte version)
    {
        switch (result)
        {
            case RowsResult rows:
                output.WriteInt((int)CqlResultKind.Rows);
                rows.Columns.Write(output, skipMetadata ? RowsFlags.NoMetadata : RowsFlags.None, rows.PagingState);
                output.WriteInt(rows.Rows.Count);
                foreach (var row in rows.Rows)
                {
                    foreach (var value in row) output.WriteBytes(value);
                }
                break;
            case SetKeyspaceResult use:
                output.WriteInt((int)CqlResultKind.SetKeyspace);
                output.WriteString(use.Keyspace);
                break;
            case SchemaChangeResult change:
                output.WriteInt((int)CqlResultKind.SchemaChange);
                output.WriteString(change.Change);
                if (version >= 3)
                {
                    output.WriteString(change.Target);
                    output.WriteString(change.Keyspace);
                    if (change.Name is not null) output.WriteString(change.Name);
                }
                break;
            default:
                output.WriteInt((int)CqlResultKind.Void);
                break;
        }
    }

    private void WriteError(CqlFrameWriter output, Exception ex)
    {
        switch (ex)
        {
            case DevFault fault:
                switch (fault.Kind)
                {
                    case CqlFaultKind.Unavailable:
                        output.WriteInt((int)CqlErrorCode.Unavailable);
                        output.WriteString($"Cannot achieve consistency level {fault.Consistency} (injected fault)");
                        output.WriteShort((ushort)fault.Consistency);
                        output.WriteInt(2);
                        output.WriteInt(1);
                        break;
                    case CqlFaultKind.ReadTimeout:
                        output.WriteInt((int)CqlErrorCode.ReadTimeout);
                        output.WriteString($"Operation timed out - received only 0 responses. (injected fault)");
                        output.WriteShort((ushort)fault.Consistency);
                        output.WriteInt(0);
                        output.WriteInt(1);
                        output.WriteByte(0);
                        break;
                    default:
                        output.WriteInt((int)CqlErrorCode.WriteTimeout);
                        output.WriteString($"Operation timed out - received only 0 responses. (injected fault)");
                        output.WriteShort((ushort)fault.Consistency);
                        output.WriteInt(0);
                        output.WriteInt(1);
                        output.WriteString(fault.WriteType);
                        break;
                }
                break;
            case DevUnprepared unprepared:
                output.WriteInt((int)CqlErrorCode.Unprepared);
                output.WriteString($"Prepared query with ID {Convert.ToHexString(unprepared.Id).ToLowerInvariant()} not found (either the query was not prepared on this host (maybe the host has been restarted?) or you have prepared too many queries and it has been evicted from the internal cache)");
                output.WriteShortBytes(unprepared.Id);
                break;
            case DevAlreadyExists exists:
                output.WriteInt((int)CqlErrorCode.AlreadyExists);
                output.WriteString(exists.Message);
                output.WriteString(exists.Keyspace);
                output.WriteString(exists.Table);
                break;
            case DevCqlError error:
                output.WriteInt((int)error.Code);
                output.WriteString(error.Message);
                break;
            case CqlProtocolException protocol:
                output.WriteInt((int)CqlErrorCode.ProtocolError);
                output.WriteString(protocol.Message);
                break;
            default:
                _logger.LogError(ex, "CQL dev server failed on a request");
                output.WriteInt((int)CqlErrorCode.ServerError);
                output.WriteString(ex.Message);
                break;
        }
    }

    private sealed class DevFault(CqlFaultKind kind, CqlConsistency consistency, bool isRead, string writeType) : Exception("injected fault")
    {
        public CqlFaultKind Kind { get; } = kind;
        public bool IsRead { get; } = isRead;
        public CqlConsistency Consistency { get; } = consistency;
        public string WriteType { get; } = writeType;
    }

    private sealed class DevUnprepared(byte[] id) : Exception("unprepared")
    {
        public byte[] Id { get; } = id;
    }

    private readonly record struct QueryParameters(CqlConsistency Consistency, byte[]?[] Values, int PageSize, byte[]? PagingState, bool SkipMetadata)
    {
        public static QueryParameters Read(CqlReader reader, byte version)
        {
            var consistency = (CqlConsistency)reader.ReadShort();
            var flags = (QueryFlags)reader.ReadByte();
            byte[]?[] values = [];
            if ((flags & QueryFlags.Values) != 0)
            {
                values = new byte[]?[reader.ReadShort()];
                for (var i = 0; i < values.Length; i++)
                {
                    if ((flags & QueryFlags.NamesForValues) != 0) reader.ReadString();
                    values[i] = ReadValue(reader);
                }
            }
            var pageSize = (flags & QueryFlags.PageSize) != 0 ? reader.ReadInt() : -1;
            var pagingState = (flags & QueryFlags.PagingState) != 0 ? reader.ReadBytes() : null;
            if ((flags & QueryFlags.SerialConsistency) != 0) reader.ReadShort();
            if ((flags & QueryFlags.DefaultTimestamp) != 0) reader.ReadLong();
            return new QueryParameters(consistency, values, pageSize, pagingState, (flags & QueryFlags.SkipMetadata) != 0);
        }

        public static byte[]? ReadValue(CqlReader reader)
        {
            var (offset, length) = reader.ReadValueSlice();
            if (length == -2) return DevExecutor.Unset;
            if (length < 0) return null;
            return reader.Buffer.AsSpan(offset, length).ToArray();
        }
    }

    /// <summary>One client socket: frames are handled in order as they arrive; responses are flushed in batches.</summary>
    private sealed class Connection(CqlDevServer server, Socket socket)
    {
        private Stream _stream = new NetworkStream(socket, ownsSocket: true);
        private readonly SemaphoreSlim _writeLock = new(1, 1);
        private readonly RequestState _state = new();

        public void Abort()
        {
            try { socket.Shutdown(SocketShutdown.Both); } catch (Exception) { /* already closed */ }
            _stream.Dispose();
        }

        public async Task RunAsync(CancellationToken stopping)
        {
            var frames = new CqlFrameAssembler();
            var output = new CqlFrameWriter(64 * 1024);
            try
            {
                if (server._options.Certificate is { } certificate)
                {
                    var ssl = new System.Net.Security.SslStream(_stream, leaveInnerStreamOpen: false);
                    await ssl.AuthenticateAsServerAsync(certificate);
                    _stream = ssl;
                }
                while (!stopping.IsCancellationRequested)
                {
                    var read = await _stream.ReadAsync(frames.FreeSpace(), stopping);
                    if (read == 0) return;
                    frames.Advance(read);
                    while (frames.TryPeekHeader(out var header))
                    {
                        var (version, flags, stream, opcode, length) = header;
                        var protocol = (byte)(version & 0x7F);
                        if (length is < 0 or > CqlFrame.MaxBodyLength || protocol < 3 || protocol > server._options.MaxProtocolVersion)
                        {
                            await RejectVersionAsync(protocol, stream, output, server._options.MaxProtocolVersion);
                            return;
                        }
                        if (!frames.TryTakeBody(length, out var body)) break;
                        _state.Version = protocol;
                        var frame = new CqlFrame(version, flags, stream, opcode, body);
                        if (server.Faults.Latency > TimeSpan.Zero && opcode is CqlOpcode.Query or CqlOpcode.Execute or CqlOpcode.Batch)
                        {
                            _ = HandleDelayedAsync(frame, server.Faults.Latency, stopping);
                            continue;
                        }
                        server.Handle(frame, _state, output);
                    }
                    if (output.Length > 0)
                    {
                        await WriteAsync(output.Written, stopping);
                        output.Reset();
                    }
                }
            }
            catch (Exception ex) when (ex is IOException or SocketException or OperationCanceledException or ObjectDisposedException or System.Security.Authentication.AuthenticationException)
            {
                // Client went away, failed the TLS handshake, or the server is stopping.
            }
            finally
            {
                Abort();
            }
        }

        private async Task HandleDelayedAsync(CqlFrame frame, TimeSpan latency, CancellationToken stopping)
        {
            try
            {
                await Task.Delay(latency, stopping);
                var output = new CqlFrameWriter(4096);
                // The keyspace a delayed request sees is the connection's at the time it runs.
                lock (_state) server.Handle(frame, _state, output);
                await WriteAsync(output.Written, stopping);
            }
            catch (Exception ex) when (ex is IOException or SocketException or OperationCanceledException or ObjectDisposedException)
            {
            }
        }

        private async Task WriteAsync(ReadOnlyMemory<byte> bytes, CancellationToken stopping)
        {
            await _writeLock.WaitAsync(stopping);
            try
            {
                await _stream.WriteAsync(bytes, stopping);
            }
            finally
            {
                _writeLock.Release();
            }
        }

        /// <summary>Answers an unsupported protocol version the way Cassandra does, then closes.</summary>
        private async Task RejectVersionAsync(byte version, short stream, CqlFrameWriter output, int maxVersion)
        {
            output.Reset();
            var start = output.BeginFrame((byte)(Math.Clamp((int)version, 3, 4) | CqlFrame.ResponseBit), CqlOpcode.Error, stream);
            output.WriteInt((int)CqlErrorCode.ProtocolError);
            output.WriteString($"Invalid or unsupported protocol version ({version}); supported versions are ({(maxVersion >= 4 ? "3/v3, 4/v4" : maxVersion == 3 ? "3/v3" : "none")})");
            output.EndFrame(start);
            await WriteAsync(output.Written, CancellationToken.None);
        }
    }
}
