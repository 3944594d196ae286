using CustomerData.Api.Contract;
using CustomerData.Api.Lake;
using CustomerData.Cql;
using Microsoft.Extensions.Options;

namespace CustomerData.Api.Customers;

/// <summary>
/// Reads one row of Cassandra's <c>customer_profile</c> with a prepared point read (prepared once, again after a
/// failure). A read that fails or takes longer than <see cref="CassandraSettings.ReadTimeout"/> means Cassandra is
/// down or overloaded: 503 <c>unavailable</c>, fast, while the lake endpoints keep working.
/// </summary>
public sealed class CustomerProfileReader(CqlSession session, IOptions<ApiOptions> options)
{
    private readonly CassandraSettings _settings = options.Value.Cassandra;
    private readonly CqlQueryOptions _queryOptions = new() { Consistency = CqlConsistency.LocalOne, IsIdempotent = true };
    private Task<CqlPreparedStatement>? _prepared;

    private string Cql =>
        "SELECT customer_id, name, email, gender, total_spend, total_transactions, avg_order_value, first_purchase, last_purchase, favorite_category " +
        $"FROM \"{session.Options.Keyspace ?? _settings.Keyspace}\".\"{_settings.Table}\" WHERE customer_id = ?";

    public async Task<CustomerProfileDto?> ReadAsync(int customerId, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(_settings.ReadTimeout);
        try
        {
            var statement = await PrepareAsync(timeout.Token);
            var result = await session.ExecuteAsync(statement, [customerId], _queryOptions, timeout.Token);
            return result.Rows.Count == 0 ? null : Map(result.Rows[0]);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new ServiceUnavailableException($"Cassandra did not answer within {_settings.ReadTimeout.TotalMilliseconds} ms.");
        }
        catch (CqlException ex) when (ex is not (CqlValueException or CqlUnsupportedTypeException))
        {
            Volatile.Write(ref _prepared, null);
            throw new ServiceUnavailableException("Cassandra is unavailable.", ex);
        }
    }

    private Task<CqlPreparedStatement> PrepareAsync(CancellationToken cancellationToken)
    {
        var prepared = Volatile.Read(ref _prepared);
        if (prepared is { IsFaulted: false, IsCanceled: false }) return prepared;
        var fresh = session.PrepareAsync(Cql, CancellationToken.None);
        Volatile.Write(ref _prepared, fresh);
        return fresh.WaitAsync(cancellationToken);
    }

    private static CustomerProfileDto Map(CqlRow row) => new(
        row.GetInt32(0),
        row.Get<string?>(1),
        row.Get<string?>(2),
        row.Get<string?>(3),
        row.Get<decimal?>(4),
        row.Get<int?>(5),
        row.Get<decimal?>(6),
        row.Get<DateTimeOffset?>(7),
        row.Get<DateTimeOffset?>(8),
        row.Get<string?>(9));
}
