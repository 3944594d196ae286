using Microsoft.Extensions.Logging;
using CustomerData.Contracts.Offsets;
using MySqlConnector;

namespace CustomerData.Pipelines.Profile.Tests;

/// <summary>The checks of SPEC section 5 A: rejects counted by reason with samples, defaults for unexpected NULLs.</summary>
public sealed class ProfileDataQualityTests(MariaDbFixture maria, CqlDevServerFixture cql)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Bad_rows_are_left_out_and_counted_by_reason_and_nulls_get_documented_defaults()
    {
        await using var bed = await ProfileTestBed.CreateAsync(maria, cql);
        // A lax source: the DDL allows what an older or hand-edited schema would (NULL names, zero dates, bad enum values).
        await bed.ExecuteAsync(
            "ALTER TABLE customers MODIFY name VARCHAR(100) NULL; SET SESSION sql_mode = '';" +
            "INSERT INTO customers VALUES " +
            "(1, 'Good', 'good@example.com', 'M', '2022-01-01')," +
            "(2, 'No at', 'not-an-email', 'F', '2022-01-01')," +
            "(3, 'Bad gender', 'g@example.com', 'X', '2022-01-01')," + // stored as '' by a lax ENUM
            "(4, 'Zero date', 'z@example.com', 'O', '0000-00-00')," +
            "(5, NULL, 'nullname@example.com', NULL, NULL)," +
            "(6, 'Idle', 'idle@example.com', 'F', '2022-01-01');" +
            "INSERT INTO products VALUES (1, 'Thing', 'Home', 10.00);" +
            "INSERT INTO transactions (txn_id, customer_id, product_id, qty, amount, txn_timestamp) VALUES " +
            "(1, 1, 1, 1, 10.00, '2024-01-01 00:00:00'), (2, 1, 1, 1, NULL, '2024-01-02 00:00:00'), (3, 1, 1, 1, 10.00, '0000-00-00 00:00:00'), (4, 1, 1, 1, 10.00, NULL)," +
            "(5, 2, 1, 1, 10.00, '2024-01-01 00:00:00'), (6, 3, 1, 1, 10.00, '2024-01-01 00:00:00'), (7, 4, 1, 1, 10.00, '2024-01-01 00:00:00')," +
            "(8, 5, 1, 1, 10.00, '2024-01-01 00:00:00'), (9, 77, 1, 1, 10.00, '2024-01-01 00:00:00'), (10, NULL, 1, 1, 10.00, '2024-01-01 00:00:00');");
        var runner = await bed.CreateRunnerAsync();

        var result = await runner.RunCycleAsync(CycleMode.Incremental, Ct);

        Assert.True(result.Succeeded, result.Error?.ToString());
        var rejects = result.Report.Rejects;
        Assert.Equal(1, rejects[QualityReasons.EmailInvalid]);
        Assert.Equal(1, rejects[QualityReasons.GenderInvalid]);
        Assert.Equal(1, rejects[QualityReasons.SignupDateInvalid]);
        Assert.Equal(1, rejects[QualityReasons.CustomerMissing]);
        Assert.Equal(1, rejects[QualityReasons.TransactionCustomerIdNull]);
        // The sample tells the shape of the bad email, never the email itself (no personal data in logs).
        Assert.Equal(["customer_id=2 email=<email: 12 chars, no '@'>"], result.Report.RejectSamples(QualityReasons.EmailInvalid));
        Assert.Equal(["txn_id=10"], result.Report.RejectSamples(QualityReasons.TransactionCustomerIdNull));
        Assert.Equal(["customer_id=77 transactions=1"], result.Report.RejectSamples(QualityReasons.CustomerMissing));
        var warnings = result.Report.Warnings;
        Assert.Equal(1, warnings[QualityReasons.NameNull]);
        Assert.Equal(1, warnings[QualityReasons.GenderNull]);
        Assert.Equal(1, warnings[QualityReasons.SignupDateNull]);
        Assert.Equal(1, warnings[QualityReasons.AmountNull]);
        Assert.Equal(2, warnings[QualityReasons.TimestampNull]); // one NULL, one zero date

        var table = await bed.ReadTableAsync();
        Assert.Equal([1, 5], table.Keys.Order());
        var good = table[1];
        Assert.Equal(30.00m, good.TotalSpend);          // the NULL amount counts as 0
        Assert.Equal(4, good.TotalTransactions);
        Assert.Equal(7.50m, good.AvgOrderValue);
        Assert.Equal(new DateTimeOffset(2024, 1, 1, 0, 0, 0, TimeSpan.Zero), good.FirstPurchase); // zero date and NULL left out
        Assert.Equal(new DateTimeOffset(2024, 1, 2, 0, 0, 0, TimeSpan.Zero), good.LastPurchase);
        var defaulted = table[5];
        Assert.Equal(MySqlProfileSource.DefaultName, defaulted.Name);
        Assert.Equal(MySqlProfileSource.DefaultGender, defaulted.Gender);
        // Rejected rows are reported, not retried forever: the offset passes them.
        Assert.Equal(10, result.OffsetAfter);
    }

    [Fact]
    public void Duplicate_and_null_customer_ids_are_rejected_with_every_row_of_the_id()
    {
        var report = new DataQualityReport(5);
        var valid = MySqlProfileSource.ValidateCustomers(
        [
            new CustomerRecord(1, "A", "a@example.com", "M", "2022-01-01"),
            new CustomerRecord(2, "B", "b@example.com", "F", "2022-01-01"),
            new CustomerRecord(2, "B2", "b2@example.com", "F", "2022-01-01"),
            new CustomerRecord(null, "C", "c@example.com", "O", "2022-01-01"),
        ], report);

        Assert.Equal([1], valid.Keys);
        Assert.Equal(2, report.Rejects[QualityReasons.CustomerIdDuplicate]);
        Assert.Equal(1, report.Rejects[QualityReasons.CustomerIdNull]);
        Assert.Equal(["customer_id=2 rows=2"], report.RejectSamples(QualityReasons.CustomerIdDuplicate));
    }

    [Fact]
    public async Task A_source_without_a_required_column_fails_the_cycle_clearly_and_keeps_the_offset()
    {
        await using var bed = await ProfileTestBed.CreateAsync(maria, cql);
        await bed.SeedAsync(customers: 5, products: 3, transactions: 10, seed: 21);
        await using (var connection = await bed.DataSource.OpenConnectionAsync(Ct))
        {
            await new TxnOffsetStore(OffsetTable.Profile).AdvanceAsync(connection, 4, cancellationToken: Ct);
        }
        await bed.ExecuteAsync("ALTER TABLE transactions DROP COLUMN amount");
        var runner = await bed.CreateRunnerAsync();

        var result = await runner.RunCycleAsync(CycleMode.Incremental, Ct);

        Assert.False(result.Succeeded);
        var error = Assert.IsType<SourceSchemaException>(result.Error);
        Assert.Contains("transactions.amount is missing", error.Message);
        Assert.Equal(4, await bed.StoredOffsetAsync());
    }

    [Fact]
    public async Task A_keyspace_without_the_migrated_tables_fails_the_cycle_naming_the_table_and_the_migration()
    {
        await using var bed = await ProfileTestBed.CreateAsync(maria, cql);
        await bed.SeedAsync(customers: 5, products: 3, transactions: 10, seed: 22);
        var session = await bed.ConnectAsync(withKeyspace: false);
        // A keyspace the migration never saw: it exists, its tables do not.
        await session.ExecuteAsync("CREATE KEYSPACE ks_unmigrated WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}", cancellationToken: Ct);
        var runner = await bed.CreateRunnerAsync(o => o.Keyspace = "ks_unmigrated", sessionKeyspace: false);

        var result = await runner.RunCycleAsync(CycleMode.Incremental, Ct);

        Assert.False(result.Succeeded);
        var error = Assert.IsType<ProfileStoreSchemaException>(result.Error);
        Assert.Contains("\"ks_unmigrated\".\"customer_profile\"", error.Message);
        Assert.Contains("Migrations", error.Message);
        Assert.Equal(0, await bed.StoredOffsetAsync());
    }

    [Fact]
    public async Task A_column_whose_type_does_not_map_to_cql_is_named()
    {
        await using var bed = await ProfileTestBed.CreateAsync(maria, cql);
        await bed.ExecuteAsync("ALTER TABLE transactions MODIFY amount DOUBLE NULL");
        await using var connection = await bed.DataSource.OpenConnectionAsync(Ct);

        var error = await Assert.ThrowsAsync<SourceSchemaException>(() => MySqlProfileSource.VerifySchemaAsync(connection, Ct));

        Assert.Contains("transactions.amount is double, expected one of decimal", error.Message);
    }

    [Fact]
    public async Task A_full_cycle_logs_and_traces_no_email_or_name_even_for_rejected_rows()
    {
        var spans = new System.Collections.Concurrent.ConcurrentQueue<System.Diagnostics.Activity>();
        using var listener = new System.Diagnostics.ActivityListener
        {
            ShouldListenTo = source => source.Name.StartsWith("CustomerData", StringComparison.Ordinal),
            Sample = (ref System.Diagnostics.ActivityCreationOptions<System.Diagnostics.ActivityContext> _) => System.Diagnostics.ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = spans.Enqueue,
        };
        System.Diagnostics.ActivitySource.AddActivityListener(listener);
        await using var bed = await ProfileTestBed.CreateAsync(maria, cql);
        await bed.ExecuteAsync(
            "SET SESSION sql_mode = '';" +
            "INSERT INTO customers VALUES (1, 'Quill_Pii_Name', 'quill.pii@example.com', 'M', '2022-01-01'), (2, 'Rook_Pii_Name', 'rook.pii-at-example.com', 'F', '2022-01-01');" +
            "INSERT INTO products VALUES (1, 'Thing', 'Home', 10.00);" +
            "INSERT INTO transactions (txn_id, customer_id, product_id, qty, amount, txn_timestamp) VALUES (1, 1, 1, 1, 10.00, '2024-01-01 00:00:00'), (2, 2, 1, 1, 10.00, '2024-01-01 00:00:00');");
        var logs = new CapturedLoggerProvider();
        using var loggers = LoggerFactory.Create(b => b.SetMinimumLevel(LogLevel.Trace).AddProvider(logs));
        var runner = await bed.CreateRunnerAsync(loggers: loggers);

        var result = await runner.RunCycleAsync(CycleMode.Incremental, Ct);

        Assert.True(result.Succeeded, result.Error?.ToString());
        Assert.Equal(1, result.Report.Rejects[QualityReasons.EmailInvalid]);
        Assert.NotEmpty(logs.Lines);
        var telemetry = string.Join('\n', logs.Lines.Concat(spans.Select(s => s.DisplayName + " " + string.Join(' ', s.TagObjects.Select(t => $"{t.Key}={t.Value}")))));
        foreach (var personal in new[] { "Quill_Pii_Name", "Rook_Pii_Name", "quill.pii@example.com", "rook.pii-at-example.com" })
        {
            Assert.DoesNotContain(personal, telemetry, StringComparison.OrdinalIgnoreCase);
        }
    }

    private sealed class CapturedLoggerProvider : ILoggerProvider
    {
        private readonly System.Collections.Concurrent.ConcurrentQueue<string> _lines = new();
        public IReadOnlyList<string> Lines => [.. _lines];
        public ILogger CreateLogger(string categoryName) => new Logger(_lines);
        public void Dispose() { }

        private sealed class Logger(System.Collections.Concurrent.ConcurrentQueue<string> lines) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;
            public bool IsEnabled(LogLevel logLevel) => true;
            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
                lines.Enqueue(formatter(state, exception) + " " + exception + " " + (state is IEnumerable<KeyValuePair<string, object?>> pairs ? string.Join(' ', pairs.Select(p => $"{p.Key}={FormatValue(p.Value)}")) : ""));

            private static string FormatValue(object? value) => value is System.Collections.IEnumerable items and not string ? string.Join(',', items.Cast<object?>()) : value?.ToString() ?? "";
        }
    }
}
