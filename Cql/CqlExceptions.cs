using CustomerData.Cql.Protocol;

namespace CustomerData.Cql;

/// <summary>Error codes of the ERROR message (spec section 9).</summary>
public enum CqlErrorCode
{
    ServerError = 0x0000,
    ProtocolError = 0x000A,
    AuthenticationError = 0x0100,
    Unavailable = 0x1000,
    Overloaded = 0x1001,
    IsBootstrapping = 0x1002,
    TruncateError = 0x1003,
    WriteTimeout = 0x1100,
    ReadTimeout = 0x1200,
    ReadFailure = 0x1300,
    FunctionFailure = 0x1400,
    WriteFailure = 0x1500,
    SyntaxError = 0x2000,
    Unauthorized = 0x2100,
    Invalid = 0x2200,
    ConfigError = 0x2300,
    AlreadyExists = 0x2400,
    Unprepared = 0x2500,
}

/// <summary>Base of every error this library raises.</summary>
public class CqlException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>The peer broke the protocol (malformed frame, unexpected message).</summary>
public sealed class CqlProtocolException(string message) : CqlException(message);

/// <summary>A value cannot be encoded or decoded as the column's type.</summary>
public sealed class CqlValueException(string message) : CqlException(message);

/// <summary>A column or bound value has a CQL type this client does not support.</summary>
public sealed class CqlUnsupportedTypeException(string message) : CqlException(message);

/// <summary>The connection failed or closed while the request was in flight, or could not be opened.</summary>
public sealed class CqlConnectionException(string message, Exception? inner = null) : CqlException(message, inner);

/// <summary>No host could be reached; <see cref="Exception.InnerException"/> holds the last failure.</summary>
public sealed class CqlNoHostAvailableException(string message, Exception? inner = null) : CqlException(message, inner);

/// <summary>The client gave up waiting for a response (the request may still run on the server).</summary>
public sealed class CqlRequestTimeoutException(string message) : CqlException(message);

/// <summary>The server speaks none of the protocol versions this client offers (4, then 3).</summary>
public sealed class CqlProtocolVersionException(string message) : CqlException(message);

/// <summary>An ERROR message from the server, with its code and message.</summary>
public class CqlServerException(CqlErrorCode code, string serverMessage)
    : CqlException($"{code} (0x{(int)code:X4}): {serverMessage}")
{
    public CqlErrorCode Code { get; } = code;
    public string ServerMessage { get; } = serverMessage;

    internal static CqlServerException Read(CqlFrame frame)
    {
        var reader = frame.OpenBody();
        var code = (CqlErrorCode)reader.ReadInt();
        var message = reader.ReadString();
        return code switch
        {
            CqlErrorCode.Unavailable => new CqlUnavailableException(message, (CqlConsistency)reader.ReadShort(), reader.ReadInt(), reader.ReadInt()),
            CqlErrorCode.WriteTimeout => new CqlWriteTimeoutException(message, (CqlConsistency)reader.ReadShort(), reader.ReadInt(), reader.ReadInt(), reader.ReadString()),
            CqlErrorCode.ReadTimeout => new CqlReadTimeoutException(message, (CqlConsistency)reader.ReadShort(), reader.ReadInt(), reader.ReadInt(), reader.ReadByte() != 0),
            CqlErrorCode.AuthenticationError => new CqlAuthenticationException(message),
            CqlErrorCode.AlreadyExists => new CqlAlreadyExistsException(message, reader.ReadString(), reader.ReadString()),
            CqlErrorCode.Unprepared => new CqlUnpreparedException(message, reader.ReadShortBytes()),
            CqlErrorCode.SyntaxError => new CqlSyntaxException(message),
            CqlErrorCode.Invalid => new CqlInvalidQueryException(message),
            _ => new CqlServerException(code, message),
        };
    }
}

public sealed class CqlUnavailableException(string message, CqlConsistency consistency, int required, int alive)
    : CqlServerException(CqlErrorCode.Unavailable, message)
{
    public CqlConsistency Consistency { get; } = consistency;
    public int Required { get; } = required;
    public int Alive { get; } = alive;
}

public sealed class CqlWriteTimeoutException(string message, CqlConsistency consistency, int received, int blockFor, string writeType)
    : CqlServerException(CqlErrorCode.WriteTimeout, message)
{
    public CqlConsistency Consistency { get; } = consistency;
    public int Received { get; } = received;
    public int BlockFor { get; } = blockFor;
    public string WriteType { get; } = writeType;
}

public sealed class CqlReadTimeoutException(string message, CqlConsistency consistency, int received, int blockFor, bool dataPresent)
    : CqlServerException(CqlErrorCode.ReadTimeout, message)
{
    public CqlConsistency Consistency { get; } = consistency;
    public int Received { get; } = received;
    public int BlockFor { get; } = blockFor;
    public bool DataPresent { get; } = dataPresent;
}

public sealed class CqlAuthenticationException(string message) : CqlServerException(CqlErrorCode.AuthenticationError, message);

public sealed class CqlSyntaxException(string message) : CqlServerException(CqlErrorCode.SyntaxError, message);

public sealed class CqlInvalidQueryException(string message) : CqlServerException(CqlErrorCode.Invalid, message);

public sealed class CqlAlreadyExistsException(string message, string keyspace, string table)
    : CqlServerException(CqlErrorCode.AlreadyExists, message)
{
    public string Keyspace { get; } = keyspace;
    public string Table { get; } = table;
}

public sealed class CqlUnpreparedException(string message, byte[] id) : CqlServerException(CqlErrorCode.Unprepared, message)
{
    public byte[] PreparedId { get; } = id;
}

/// <summary>Consistency levels ([consistency] notation).</summary>
public enum CqlConsistency : ushort
{
    Any = 0x0000,
    One = 0x0001,
    Two = 0x0002,
    Three = 0x0003,
    Quorum = 0x0004,
    All = 0x0005,
    LocalQuorum = 0x0006,
    EachQuorum = 0x0007,
    Serial = 0x0008,
    LocalSerial = 0x0009,
    LocalOne = 0x000A,
}
