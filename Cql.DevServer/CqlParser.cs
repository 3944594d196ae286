using System.Globalization;
using System.Text;

namespace CustomerData.Cql.DevServer;

/// <summary>A CQL error the dev server reports with a protocol error code (SyntaxError, Invalid, ...).</summary>
internal sealed class DevCqlError(CqlErrorCode code, string message) : Exception(message)
{
    public CqlErrorCode Code { get; } = code;
    public static DevCqlError Syntax(string message) => new(CqlErrorCode.SyntaxError, message);
    public static DevCqlError Invalid(string message) => new(CqlErrorCode.Invalid, message);
}

internal enum TokenKind { Identifier, QuotedIdentifier, String, Number, Uuid, Hex, Symbol, BindMarker, End }

internal readonly record struct Token(TokenKind Kind, string Text);

/// <summary>A value in a statement: a literal (parsed against the column type later) or the n-th bind marker.</summary>
internal abstract record Term;
internal sealed record LiteralTerm(Token Token) : Term;
internal sealed record NullTerm : Term;
internal sealed record BindTerm(int Index) : Term;

internal sealed record TableName(string? Keyspace, string Name);
internal sealed record Condition(string Column, Term Value);
internal sealed record ColumnDefinition(string Name, string Type);

internal abstract record Statement
{
    public int BindCount { get; init; }
}
internal sealed record UseStatement(string Keyspace) : Statement;
internal sealed record CreateKeyspaceStatement(string Keyspace, bool IfNotExists) : Statement;
internal sealed record CreateTableStatement(TableName Table, bool IfNotExists, List<ColumnDefinition> Columns, List<string> PartitionKey, List<string> Clustering) : Statement;
internal sealed record DropStatement(bool IsKeyspace, TableName Name, bool IfExists) : Statement;
internal sealed record TruncateStatement(TableName Table) : Statement;
internal sealed record InsertStatement(TableName Table, List<string> Columns, List<Term> Values, bool IfNotExists) : Statement;
internal sealed record UpdateStatement(TableName Table, List<Condition> Assignments, List<Condition> Where) : Statement;
internal sealed record DeleteStatement(TableName Table, List<string> Columns, List<Condition> Where) : Statement;
internal sealed record SelectStatement(TableName Table, List<string>? Columns, bool CountAll, List<Condition> Where, Term? Limit) : Statement;

/// <summary>
/// Parser for the CQL subset the dev server runs: USE, CREATE/DROP KEYSPACE/TABLE, TRUNCATE,
/// INSERT, UPDATE, DELETE, SELECT with equality WHERE clauses and LIMIT. Options it cannot
/// honour (WITH replication, USING TTL, ...) are accepted and ignored.
/// </summary>
internal sealed class CqlParser
{
    private readonly List<Token> _tokens;
    private int _position;
    private int _bindCount;

    private CqlParser(List<Token> tokens) => _tokens = tokens;

    public static Statement Parse(string cql)
    {
        var parser = new CqlParser(Tokenize(cql));
        var statement = parser.ParseStatement();
        parser.Accept(";");
        if (parser.Peek.Kind != TokenKind.End) throw DevCqlError.Syntax($"line 1: unexpected '{parser.Peek.Text}' after the statement");
        return statement with { BindCount = parser._bindCount };
    }

    private Token Peek => _tokens[_position];
    private Token Next() => _tokens[_position++];

    private bool IsKeyword(string keyword, int offset = 0) =>
        _tokens[Math.Min(_position + offset, _tokens.Count - 1)] is { Kind: TokenKind.Identifier } t && t.Text.Equals(keyword, StringComparison.OrdinalIgnoreCase);

    private bool Accept(string keywordOrSymbol)
    {
        if (IsKeyword(keywordOrSymbol) || (Peek.Kind == TokenKind.Symbol && Peek.Text == keywordOrSymbol))
        {
            _position++;
            return true;
        }
        return false;
    }

    private void Expect(string keywordOrSymbol)
    {
        if (!Accept(keywordOrSymbol)) throw DevCqlError.Syntax($"line 1: expected '{keywordOrSymbol}' but found '{Peek.Text}'");
    }

    private string Identifier()
    {
        var token = Next();
        return token.Kind switch
        {
            TokenKind.Identifier => token.Text.ToLowerInvariant(),
            TokenKind.QuotedIdentifier => token.Text,
            _ => throw DevCqlError.Syntax($"line 1: expected an identifier but found '{token.Text}'"),
        };
    }

    private TableName Table()
    {
        var first = Identifier();
        if (Accept(".")) return new TableName(first, Identifier());
        return new TableName(null, first);
    }

    private bool IfNotExists()
    {
        if (!Accept("IF")) return false;
        Expect("NOT");
        Expect("EXISTS");
        return true;
    }

    private Statement ParseStatement()
    {
        if (Accept("USE")) return new UseStatement(Identifier());
        if (Accept("CREATE"))
        {
            if (Accept("KEYSPACE") || Accept("SCHEMA"))
            {
                var ifNotExists = IfNotExists();
                var name = Identifier();
                SkipToEnd();
                return new CreateKeyspaceStatement(name, ifNotExists);
            }
            if (Accept("TABLE") || Accept("COLUMNFAMILY")) return CreateTable();
            throw DevCqlError.Invalid($"CREATE {Peek.Text} is not supported by the CQL dev server");
        }
        if (Accept("DROP"))
        {
            var isKeyspace = Accept("KEYSPACE");
            if (!isKeyspace) Expect("TABLE");
            var ifExists = Accept("IF") && Accept("EXISTS");
            return new DropStatement(isKeyspace, isKeyspace ? new TableName(null, Identifier()) : Table(), ifExists);
        }
        if (Accept("TRUNCATE"))
        {
            Accept("TABLE");
            return new TruncateStatement(Table());
        }
        if (Accept("INSERT")) return Insert();
        if (Accept("UPDATE")) return Update();
        if (Accept("DELETE")) return Delete();
        if (Accept("SELECT")) return Select();
        throw DevCqlError.Syntax($"line 1: '{Peek.Text}' does not start a statement the CQL dev server supports");
    }

    private void SkipToEnd()
    {
        while (Peek.Kind != TokenKind.End && !(Peek.Kind == TokenKind.Symbol && Peek.Text == ";")) _position++;
    }

    private CreateTableStatement CreateTable()
    {
        var ifNotExists = IfNotExists();
        var table = Table();
        Expect("(");
        var columns = new List<ColumnDefinition>();
        var partitionKey = new List<string>();
        var clustering = new List<string>();
        do
        {
            if (Accept("PRIMARY"))
            {
                Expect("KEY");
                Expect("(");
                if (Accept("("))
                {
                    do partitionKey.Add(Identifier()); while (Accept(","));
                    Expect(")");
                }
                else partitionKey.Add(Identifier());
                while (Accept(",")) clustering.Add(Identifier());
                Expect(")");
                continue;
            }
            var name = Identifier();
            var type = TypeText();
            if (Accept("STATIC")) { }
            if (Accept("PRIMARY"))
            {
                Expect("KEY");
                partitionKey.Add(name);
            }
            columns.Add(new ColumnDefinition(name, type));
        } while (Accept(","));
        Expect(")");
        SkipToEnd(); // WITH options (clustering order, compaction, ...) do not apply in memory.
        if (partitionKey.Count == 0) throw DevCqlError.Invalid($"No PRIMARY KEY specified for table '{table.Name}' (exactly one required)");
        foreach (var key in partitionKey.Concat(clustering))
        {
            if (!columns.Any(c => c.Name == key)) throw DevCqlError.Invalid($"Unknown definition {key} referenced in PRIMARY KEY");
        }
        return new CreateTableStatement(table, ifNotExists, columns, partitionKey, clustering);
    }

    private string TypeText()
    {
        var text = new StringBuilder(Identifier());
        if (Peek.Kind == TokenKind.Symbol && Peek.Text == "<")
        {
            var depth = 0;
            do
            {
                var token = Next();
                if (token.Text == "<") depth++;
                if (token.Text == ">") depth--;
                text.Append(token.Text);
            } while (depth > 0 && Peek.Kind != TokenKind.End);
        }
        return text.ToString();
    }

    private Term Value()
    {
        var token = Next();
        switch (token.Kind)
        {
            case TokenKind.BindMarker:
                return new BindTerm(_bindCount++);
            case TokenKind.Identifier when token.Text.Equals("null", StringComparison.OrdinalIgnoreCase):
                return new NullTerm();
            case TokenKind.Identifier when token.Text.Equals("true", StringComparison.OrdinalIgnoreCase) || token.Text.Equals("false", StringComparison.OrdinalIgnoreCase):
            case TokenKind.String or TokenKind.Number or TokenKind.Uuid or TokenKind.Hex:
                return new LiteralTerm(token);
            default:
                throw DevCqlError.Syntax($"line 1: expected a value but found '{token.Text}'");
        }
    }

    private void SkipUsing()
    {
        if (!Accept("USING")) return;
        do
        {
            Next(); // TTL | TIMESTAMP
            Value();
        } while (Accept("AND"));
    }

    private InsertStatement Insert()
    {
        Expect("INTO");
        var table = Table();
        Expect("(");
        var columns = new List<string>();
        do columns.Add(Identifier()); while (Accept(","));
        Expect(")");
        Expect("VALUES");
        Expect("(");
        var values = new List<Term>();
        do values.Add(Value()); while (Accept(","));
        Expect(")");
        if (columns.Count != values.Count) throw DevCqlError.Invalid($"Unmatched column names/values: {columns.Count} columns, {values.Count} values");
        var ifNotExists = IfNotExists();
        SkipUsing();
        return new InsertStatement(table, columns, values, ifNotExists);
    }

    private List<Condition> Where()
    {
        var conditions = new List<Condition>();
        if (!Accept("WHERE")) return conditions;
        do
        {
            var column = Identifier();
            if (!Accept("=")) throw DevCqlError.Invalid($"Only equality conditions are supported by the CQL dev server (column {column}, found '{Peek.Text}')");
            conditions.Add(new Condition(column, Value()));
        } while (Accept("AND"));
        return conditions;
    }

    private UpdateStatement Update()
    {
        var table = Table();
        SkipUsing();
        Expect("SET");
        var assignments = new List<Condition>();
        do
        {
            var column = Identifier();
            Expect("=");
            assignments.Add(new Condition(column, Value()));
        } while (Accept(","));
        var where = Where();
        if (Accept("IF")) throw DevCqlError.Invalid("Conditional updates are not supported by the CQL dev server");
        return new UpdateStatement(table, assignments, where);
    }

    private DeleteStatement Delete()
    {
        var columns = new List<string>();
        if (!IsKeyword("FROM"))
        {
            do columns.Add(Identifier()); while (Accept(","));
        }
        Expect("FROM");
        var table = Table();
        SkipUsing();
        var where = Where();
        return new DeleteStatement(table, columns, where);
    }

    private SelectStatement Select()
    {
        List<string>? columns = null;
        var countAll = false;
        Accept("JSON");
        if (Accept("*")) { }
        else if (IsKeyword("COUNT") && _tokens[_position + 1].Text == "(")
        {
            _position += 2;
            if (!Accept("*")) Expect("1");
            Expect(")");
            countAll = true;
        }
        else
        {
            columns = [];
            do columns.Add(Identifier()); while (Accept(","));
        }
        Expect("FROM");
        var table = Table();
        var where = Where();
        Term? limit = null;
        if (Accept("LIMIT")) limit = Value();
        if (Accept("ALLOW")) Expect("FILTERING");
        return new SelectStatement(table, columns, countAll, where, limit);
    }

    public static List<Token> Tokenize(string cql)
    {
        var tokens = new List<Token>();
        var i = 0;
        while (i < cql.Length)
        {
            var c = cql[i];
            if (char.IsWhiteSpace(c)) { i++; continue; }
            if (c == '-' && i + 1 < cql.Length && cql[i + 1] == '-' || c == '/' && i + 1 < cql.Length && cql[i + 1] == '/')
            {
                while (i < cql.Length && cql[i] != '\n') i++;
                continue;
            }
            if (c == '/' && i + 1 < cql.Length && cql[i + 1] == '*')
            {
                var close = cql.IndexOf("*/", i + 2, StringComparison.Ordinal);
                i = close < 0 ? cql.Length : close + 2;
                continue;
            }
            if (c == '\'' || c == '"')
            {
                var text = new StringBuilder();
                i++;
                while (true)
                {
                    if (i >= cql.Length) throw DevCqlError.Syntax("line 1: unterminated quoted text");
                    if (cql[i] == c)
                    {
                        if (i + 1 < cql.Length && cql[i + 1] == c) { text.Append(c); i += 2; continue; }
                        i++;
                        break;
                    }
                    text.Append(cql[i++]);
                }
                tokens.Add(new Token(c == '\'' ? TokenKind.String : TokenKind.QuotedIdentifier, text.ToString()));
                continue;
            }
            if (c == '?') { tokens.Add(new Token(TokenKind.BindMarker, "?")); i++; continue; }
            if (c == ':' && i + 1 < cql.Length && (char.IsLetter(cql[i + 1]) || cql[i + 1] == '_'))
            {
                var start = ++i;
                while (i < cql.Length && (char.IsLetterOrDigit(cql[i]) || cql[i] == '_')) i++;
                tokens.Add(new Token(TokenKind.BindMarker, cql[start..i]));
                continue;
            }
            if (char.IsDigit(c) || (c is '-' or '+' or '.') && i + 1 < cql.Length && char.IsDigit(cql[i + 1]))
            {
                var start = i++;
                while (i < cql.Length && (char.IsAsciiLetterOrDigit(cql[i]) || cql[i] is '.' or '-' or '+'))
                {
                    // A sign continues a number only right after an exponent marker.
                    if (cql[i] is '-' or '+' && !(cql[i - 1] is 'e' or 'E') && !LooksLikeUuidSoFar(cql, start, i)) break;
                    i++;
                }
                var text = cql[start..i];
                var kind = Guid.TryParseExact(text, "D", out _) ? TokenKind.Uuid
                    : text.StartsWith("0x", StringComparison.OrdinalIgnoreCase) ? TokenKind.Hex
                    : TokenKind.Number;
                if (kind == TokenKind.Number && !double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out _))
                    throw DevCqlError.Syntax($"line 1: invalid number '{text}'");
                tokens.Add(new Token(kind, text));
                continue;
            }
            if (char.IsLetter(c) || c == '_')
            {
                var start = i;
                while (i < cql.Length && (char.IsLetterOrDigit(cql[i]) || cql[i] == '_' || cql[i] == '-' && LooksLikeUuidSoFar(cql, start, i))) i++;
                var text = cql[start..i];
                tokens.Add(new Token(Guid.TryParseExact(text, "D", out _) ? TokenKind.Uuid : TokenKind.Identifier, text));
                continue;
            }
            tokens.Add(new Token(TokenKind.Symbol, c.ToString()));
            i++;
        }
        tokens.Add(new Token(TokenKind.End, "<end of statement>"));
        return tokens;
    }

    /// <summary>UUID literals are unquoted hex with dashes; keep reading while the text fits the 8-4-4-4-12 shape.</summary>
    private static bool LooksLikeUuidSoFar(string cql, int start, int dash) =>
        (dash - start) is 8 or 13 or 18 or 23 && cql[start..dash].All(ch => char.IsAsciiHexDigit(ch) || ch == '-');
}
