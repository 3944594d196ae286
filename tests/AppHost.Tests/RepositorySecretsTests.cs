using System.Diagnostics;
using System.Text.RegularExpressions;

namespace CustomerData.AppHost.Tests;

/// <summary>
/// No secret is committed: every password, key and token of the product comes from configuration, Aspire secret
/// parameters or user secrets. Scans every tracked file outside <c>tests/</c> (whose throwaway servers use fixed test
/// credentials) for private keys, cloud access keys, JWTs and literal passwords in connection strings or settings.
/// </summary>
public sealed partial class RepositorySecretsTests
{
    [GeneratedRegex(@"-----BEGIN (RSA |EC |OPENSSH |DSA |ENCRYPTED )?PRIVATE KEY-----")]
    private static partial Regex PrivateKey();

    [GeneratedRegex(@"\b(AKIA|ASIA)[0-9A-Z]{16}\b")]
    private static partial Regex AwsAccessKey();

    [GeneratedRegex(@"\beyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}")]
    private static partial Regex Jwt();

    // Password=value in a connection string, unless the value is a placeholder ({parameter}, $VAR, <...>, ...).
    [GeneratedRegex(@"(?i)\b(password|pwd)=(?![{$<.…])[^;""'\s]{4,}")]
    private static partial Regex ConnectionStringPassword();

    // "Password": "value" (or a secret key, client secret, signing key value) in a settings file.
    [GeneratedRegex(@"(?i)""(password|secretkey|secret_key|accesskey|clientsecret|value)""\s*:\s*""(?![{$<.…])[^""]{8,}""")]
    private static partial Regex SettingsSecret();

    [Fact]
    public void No_tracked_file_outside_the_tests_holds_a_secret()
    {
        var root = RepositoryRoot();
        var findings = new List<string>();
        foreach (var file in TrackedFiles(root).Where(f => !f.StartsWith("tests/", StringComparison.Ordinal)))
        {
            var path = Path.Combine(root, file);
            if (!File.Exists(path) || new FileInfo(path).Length > 2_000_000) continue;
            var text = File.ReadAllText(path);
            if (text.Contains('\0')) continue; // binary
            foreach (var (name, regex) in new (string, Regex)[] { ("private key", PrivateKey()), ("AWS access key", AwsAccessKey()), ("JWT", Jwt()), ("connection string password", ConnectionStringPassword()), ("settings secret", SettingsSecret()) })
            {
                foreach (Match match in regex.Matches(text))
                {
                    findings.Add($"{file}: {name}: {match.Value[..Math.Min(60, match.Value.Length)]}");
                }
            }
        }
        Assert.True(findings.Count == 0, "Committed secrets:\n" + string.Join('\n', findings));
    }

    [Fact]
    public void The_scan_finds_a_planted_secret()
    {
        Assert.Matches(ConnectionStringPassword(), "Server=db;User ID=platform;Password=Hunter2Hunter2;Database=customer_db");
        Assert.DoesNotMatch(ConnectionStringPassword(), "Server=db;Password=...;Database=customer_db");
        Assert.DoesNotMatch(ConnectionStringPassword(), "User ID=platform;Password={mysql-password.value}");
        Assert.Matches(SettingsSecret(), "\"SecretKey\": \"wJalrXUtnFEMIK7MDENG\"");
        Assert.Matches(SettingsSecret(), "\"Value\": \"8vKbTV85iLtmnnPD1HQ4qf91MgDItpzek3tTcAJjoDs=\"");
        Assert.Matches(AwsAccessKey(), "key AKIAIOSFODNN7EXAMPLE here");
        Assert.Matches(Jwt(), "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U");
    }

    private static IEnumerable<string> TrackedFiles(string root)
    {
        var psi = new ProcessStartInfo("git", ["-C", root, "ls-files"]) { RedirectStandardOutput = true, UseShellExecute = false };
        using var git = Process.Start(psi)!;
        var output = git.StandardOutput.ReadToEnd();
        git.WaitForExit();
        Assert.Equal(0, git.ExitCode);
        return output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
    }

    private static string RepositoryRoot()
    {
        var folder = new DirectoryInfo(AppContext.BaseDirectory);
        while (folder is not null && !File.Exists(Path.Combine(folder.FullName, "aspire.sln"))) folder = folder.Parent;
        return folder?.FullName ?? throw new InvalidOperationException("aspire.sln not found above the test binaries.");
    }
}
