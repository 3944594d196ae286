using System.Globalization;

namespace CustomerData.Api.Contract;

/// <summary>
/// Parses the request values of the contract (SPEC §9) strictly: ASCII digits only (no sign, spaces, exponent,
/// full-width or Arabic-Indic digits), dates in exactly <c>YYYY-MM-DD</c> that are real calendar days.
/// </summary>
public static class RequestValues
{
    public const int DefaultLimit = 100;
    public const int MaxLimit = 10_000;

    /// <summary>A positive 32-bit integer.</summary>
    public static bool TryParseCustomerId(string? text, out int customerId)
    {
        customerId = 0;
        return IsAsciiDigits(text, maxLength: 10)
            && int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out customerId)
            && customerId > 0;
    }

    /// <summary>A real calendar day written as exactly <c>YYYY-MM-DD</c> (<c>2025-1-01</c> and <c>2025-02-30</c> are not).</summary>
    public static bool TryParseDay(string? text, out DateOnly day)
    {
        day = default;
        if (text is not { Length: 10 } || text[4] != '-' || text[7] != '-') return false;
        for (var i = 0; i < 10; i++)
        {
            if (i is 4 or 7) continue;
            if (!char.IsAsciiDigit(text[i])) return false;
        }
        return DateOnly.TryParseExact(text, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out day);
    }

    /// <summary>An optional day parameter: absent → null; present → it must be a valid day.</summary>
    public static bool TryParseOptionalDay(string? text, out DateOnly? day)
    {
        day = null;
        if (text is null) return true;
        if (!TryParseDay(text, out var parsed)) return false;
        day = parsed;
        return true;
    }

    /// <summary><c>limit</c>: absent → 100; else 1..10000 in ASCII digits.</summary>
    public static bool TryParseLimit(string? text, out int limit)
    {
        limit = DefaultLimit;
        if (text is null) return true;
        return IsAsciiDigits(text, maxLength: 5)
            && int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out limit)
            && limit is >= 1 and <= MaxLimit;
    }

    private static bool IsAsciiDigits(string? text, int maxLength)
    {
        if (string.IsNullOrEmpty(text) || text.Length > maxLength) return false;
        foreach (var c in text)
        {
            if (!char.IsAsciiDigit(c)) return false;
        }
        return true;
    }
}
