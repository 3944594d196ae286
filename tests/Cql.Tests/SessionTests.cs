namespace CustomerData.Cql.Tests;

/// <summary>Our client against the in-process dev server.</summary>
public sealed class SessionTests(DevServerFixture fixture)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Prepared_upsert_and_select_round_trip_every_supported_type()
    {
        await using var session = await fixture.SessionWithKeyspaceAsync("types_ks");
        var created = await session.ExecuteAsync(DevServerFixture.ItemsTable, cancellationToken: Ct);
        Assert.Equal("types_ks", created.Keyspace);

        var upsert = await session.PrepareAsync("INSERT INTO items (id, name, amount, seen, ok, ratio, big, uid, day) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", Ct);
        Assert.Same(upsert, await session.PrepareAsync(upsert.Query, Ct)); // cached
        Assert.Equal(["id", "name", "amount", "seen", "ok", "ratio", "big", "uid", "day"], upsert.Variables.Columns.Select(c => c.Name));
        Assert.Equal([0], upsert.PartitionKeyIndexes);

        var seen = new DateTimeOffset(2024, 5, 18, 18, 17, 40, 123, TimeSpan.Zero);
        var uid = Guid.NewGuid();
        await session.ExecuteAsync(upsert, [456, "Customer_456", 143949.50m, seen, true, 0.25, long.MinValue, uid, new DateOnly(2025, 12, 10)], cancellationToken: Ct);
        await session.ExecuteAsync(upsert, [457, null, null, null, null, null, null, null, null], cancellationToken: Ct);

        var select = await session.PrepareAsync("SELECT id, name, amount, seen, ok, ratio, big, uid, day FROM items WHERE id = ?", Ct);
        var row = Assert.Single((await session.ExecuteAsync(select, [456], new CqlQueryOptions { Consistency = CqlConsistency.One }, Ct)).Rows);
        Assert.Equal(456, row.GetInt32("id"));
        Assert.Equal("Customer_456", row.GetString("name"));
        Assert.Equal(143949.50m, row.GetDecimal("amount"));
        Assert.Equal(2, row.GetDecimal("amount").Scale);
        Assert.Equal(seen, row.GetTimestamp("seen"));
        Assert.True(row.GetBoolean("ok"));
        Assert.Equal(0.25, row.GetDouble("ratio"));
        Assert.Equal(long.MinValue, row.GetInt64("big"));
        Assert.Equal(uid, row.GetGuid("uid"));
        Assert.Equal(new DateOnly(2025, 12, 10), row.GetDate("day"));
        Assert.Equal(seen.UtcDateTime, row.Get<DateTime>("seen"));

        var empty = Assert.Single((await session.ExecuteAsync(select, [457], cancellationToken: Ct)).Rows);
        Assert.True(empty.IsNull("name"));
        Assert.Null(empty.Get<decimal?>("amount"));
        Assert.Empty((await session.ExecuteAsync(select, [999], cancellationToken: Ct)).Rows);

        // Upsert semantics: a second write replaces the values; a bad value type fails before sending.
        await session.ExecuteAsync(upsert, [456, "renamed", 1m, seen, false, 1.0, 1L, uid, new DateOnly(2025, 12, 11)], cancellationToken: Ct);
        Assert.Equal("renamed", (await session.ExecuteAsync(select, [456], cancellationToken: Ct)).Rows[0].GetString("name"));
        var bad = await Assert.ThrowsAsync<CqlValueException>(() => session.ExecuteAsync(select, ["456"], cancellationToken: Ct));
        Assert.Contains("id", bad.Message);
    }

    [Fact]
    public async Task Simple_statements_bind_inferred_values_and_literals()
    {
        await using var session = await fixture.SessionWithKeyspaceAsync("simple_ks");
        await session.ExecuteAsync(DevServerFixture.ItemsTable, cancellationToken: Ct);
        await session.ExecuteAsync("INSERT INTO items (id, name, amount, ok, day, uid) VALUES (1, 'it''s', -12.50, true, '2025-01-31', 00112233-4455-6677-8899-aabbccddeeff)", cancellationToken: Ct);
        await session.ExecuteAsync("UPDATE items SET name = ?, big = ? WHERE id = ?", ["two", 2L, 2], cancellationToken: Ct);
        await session.ExecuteAsync("INSERT INTO simple_ks.items (id, seen) VALUES (?, ?)", [3, new DateTime(2020, 1, 2, 3, 4, 5, DateTimeKind.Utc)], cancellationToken: Ct);

        var one = (await session.ExecuteAsync("SELECT * FROM items WHERE id = 1", cancellationToken: Ct)).Rows.Single();
        Assert.Equal(("it's", -12.50m, true, new DateOnly(2025, 1, 31), Guid.Parse("00112233-4455-6677-8899-aabbccddeeff")),
            (one.GetString("name"), one.GetDecimal("amount"), one.GetBoolean("ok"), one.GetDate("day"), one.GetGuid("uid")));
        var two = (await session.ExecuteAsync("SELECT name, big FROM items WHERE id = ?", [2], cancellationToken: Ct)).Rows.Single();
        Assert.Equal(("two", 2L), (two.GetString(0), two.GetInt64(1)));
        var three = (await session.ExecuteAsync("SELECT seen FROM items WHERE id = 3", cancellationToken: Ct)).Rows.Single();
        Assert.Equal(new DateTimeOffset(2020, 1, 2, 3, 4, 5, TimeSpan.Zero), three.GetTimestamp(0));

        await session.ExecuteAsync("DELETE FROM items WHERE id = ?", [2], cancellationToken: Ct);
        var count = (await session.ExecuteAsync("SELECT COUNT(*) FROM items", cancellationToken: Ct)).Rows.Single().GetInt64(0);
        Assert.Equal(2, count);
    }

    [Fact]
    public async Task Paging_returns_all_10000_rows_exactly_once()
    {
        await using var session = await fixture.SessionWithKeyspaceAsync("paging_ks");
        await session.ExecuteAsync("CREATE TABLE IF NOT EXISTS big (id int PRIMARY KEY, payload text)", cancellationToken: Ct);
        var insert = await session.PrepareAsync("INSERT INTO big (id, payload) VALUES (?, ?)", Ct);
        const int total = 10_000;
        await Parallel.ForEachAsync(Enumerable.Range(0, total), new ParallelOptions { MaxDegreeOfParallelism = 32, CancellationToken = Ct },
            async (i, ct) => await session.ExecuteAsync(insert, [i, $"row {i}"], cancellationToken: ct));

        // Page by page with the paging state.
        var options = new CqlQueryOptions { PageSize = 999 };
        var pages = 0;
        var seen = new HashSet<int>();
        do
        {
            var page = await session.ExecuteAsync("SELECT id, payload FROM big", options: options, cancellationToken: Ct);
            pages++;
            Assert.True(page.Rows.Count <= 999);
            foreach (var row in page.Rows)
            {
                Assert.True(seen.Add(row.GetInt32(0)));
                Assert.Equal($"row {row.GetInt32(0)}", row.GetString(1));
            }
            options = options with { PagingState = page.PagingState };
        } while (options.PagingState is not null);
        Assert.Equal(total, seen.Count);
        Assert.Equal((total + 998) / 999, pages);

        // The enumerator follows pages itself; LIMIT applies across pages.
        // One 10,000-row page is a ~200 KB frame, larger than the client's 64 KB read buffer.
        var select = await session.PrepareAsync("SELECT id, payload FROM big", Ct);
        var single = await session.ExecuteAsync(select, options: new CqlQueryOptions { PageSize = total }, cancellationToken: Ct);
        Assert.Equal(total, single.Rows.Count);
        Assert.False(single.HasMorePages);
        Assert.Equal(total, single.Rows.Select(r => r.GetString(1)).Distinct().Count());
        var count = 0;
        await foreach (var _ in session.QueryAsync(select, options: new CqlQueryOptions { PageSize = 1000 }, cancellationToken: Ct)) count++;
        Assert.Equal(total, count);
        var limited = 0;
        await foreach (var _ in session.QueryAsync("SELECT id FROM big LIMIT 2500", options: new CqlQueryOptions { PageSize = 1000 }, cancellationToken: Ct)) limited++;
        Assert.Equal(2500, limited);
    }

    [Fact]
    public async Task Unlogged_batch_applies_every_statement()
    {
        await using var session = await fixture.SessionWithKeyspaceAsync("batch_ks");
        await session.ExecuteAsync(DevServerFixture.ItemsTable, cancellationToken: Ct);
        var insert = await session.PrepareAsync("INSERT INTO items (id, name, amount) VALUES (?, ?, ?)", Ct);
        var batch = new CqlBatch();
        for (var i = 0; i < 100; i++) batch.Add(insert, i, $"n{i}", i * 1.5m);
        batch.Add("UPDATE items SET name = ? WHERE id = ?", "simple", 1000);
        await session.ExecuteBatchAsync(batch, cancellationToken: Ct);

        var rows = new List<CqlRow>();
        await foreach (var row in session.QueryAsync("SELECT id, name, amount FROM items", cancellationToken: Ct)) rows.Add(row);
        Assert.Equal(101, rows.Count);
        Assert.Equal(49.5m, rows.Single(r => r.GetInt32(0) == 33).GetDecimal(2));
        Assert.Equal("simple", rows.Single(r => r.GetInt32(0) == 1000).GetString(1));

        var badBatch = new CqlBatch().Add("SELECT * FROM items");
        var ex = await Assert.ThrowsAsync<CqlInvalidQueryException>(() => session.ExecuteBatchAsync(badBatch, cancellationToken: Ct));
        Assert.Equal(CqlErrorCode.Invalid, ex.Code);
    }

    [Fact]
    public async Task Wrong_password_fails_with_the_servers_authentication_message()
    {
        var options = fixture.Options();
        options.Password = "wrong";
        var ex = await Assert.ThrowsAsync<CqlAuthenticationException>(() => CqlSession.ConnectAsync(options, cancellationToken: Ct));
        Assert.Equal(CqlErrorCode.AuthenticationError, ex.Code);
        Assert.Contains("username cassandra and/or password are incorrect", ex.ServerMessage);

        options.Username = null;
        var missing = await Assert.ThrowsAsync<CqlAuthenticationException>(() => CqlSession.ConnectAsync(options, cancellationToken: Ct));
        Assert.Contains("PasswordAuthenticator", missing.Message);
    }

    [Fact]
    public async Task Server_errors_are_typed_with_code_and_message()
    {
        await using var session = await fixture.SessionWithKeyspaceAsync("errors_ks");
        var syntax = await Assert.ThrowsAsync<CqlSyntaxException>(() => session.ExecuteAsync("SELEKT * FROM x", cancellationToken: Ct));
        Assert.Equal(CqlErrorCode.SyntaxError, syntax.Code);
        var invalid = await Assert.ThrowsAsync<CqlInvalidQueryException>(() => session.ExecuteAsync("SELECT * FROM no_such_table", cancellationToken: Ct));
        Assert.Contains("unconfigured table no_such_table", invalid.ServerMessage);
        await session.ExecuteAsync("CREATE TABLE t (id int PRIMARY KEY)", cancellationToken: Ct);
        var exists = await Assert.ThrowsAsync<CqlAlreadyExistsException>(() => session.ExecuteAsync("CREATE TABLE t (id int PRIMARY KEY)", cancellationToken: Ct));
        Assert.Equal(("errors_ks", "t"), (exists.Keyspace, exists.Table));
    }

    [Fact]
    public async Task Columns_of_unsupported_types_raise_a_clear_error()
    {
        await using var session = await CqlSession.ConnectAsync(fixture.Options(), cancellationToken: Ct);
        var row = (await session.ExecuteAsync("SELECT release_version, tokens FROM system.local WHERE key = 'local'", cancellationToken: Ct)).Rows.Single();
        Assert.False(string.IsNullOrEmpty(row.GetString("release_version")));
        var ex = Assert.Throws<CqlUnsupportedTypeException>(() => row.GetValue("tokens"));
        Assert.Contains("set<text>", ex.Message);
    }
}
