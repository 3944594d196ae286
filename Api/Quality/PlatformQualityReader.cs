using System.Net.Http.Json;
using System.Text.Json;
using CustomerData.Api.Contract;
using CustomerData.Contracts.Quality;
using Microsoft.Extensions.Options;

namespace CustomerData.Api.Quality;

/// <summary>
/// Asks every configured pipeline for its <c>/quality</c> report at once, each within <see cref="QualityOptions.Timeout"/>,
/// and puts the answers into one document. A pipeline that is down, slow or answers nonsense is reported
/// <c>unreachable</c> with a reason: it never fails the whole answer.
/// </summary>
public sealed partial class PlatformQualityReader(
    IHttpClientFactory httpClients, IOptions<QualityOptions> options, TimeProvider time, ILogger<PlatformQualityReader> logger)
{
    /// <summary>The named HttpClient: service discovery, no retries (the timeout is the whole budget).</summary>
    public const string HttpClientName = "quality";

    private readonly QualityOptions _options = options.Value;

    /// <summary>The configured pipeline names, in order.</summary>
    public IEnumerable<string> Names => _options.Sources.Keys.Order(StringComparer.Ordinal);

    public async Task<PlatformQualityData> ReadAllAsync(CancellationToken cancellationToken)
    {
        var statuses = await Task.WhenAll(Names.Select(name => ReadAsync(name, cancellationToken)));
        return new PlatformQualityData(time.GetUtcNow().UtcDateTime, Summarize(statuses), statuses);
    }

    /// <summary>One pipeline's status, or null when no source of that name is configured.</summary>
    public async Task<PipelineQualityStatus?> ReadOneAsync(string name, CancellationToken cancellationToken) =>
        _options.Sources.ContainsKey(name) ? await ReadAsync(name, cancellationToken) : null;

    private async Task<PipelineQualityStatus> ReadAsync(string name, CancellationToken cancellationToken)
    {
        var address = new Uri(_options.Sources[name].TrimEnd('/') + "/quality");
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(_options.Timeout);
        string reason;
        try
        {
            using var client = httpClients.CreateClient(HttpClientName);
            using var response = await client.GetAsync(address, HttpCompletionOption.ResponseHeadersRead, timeout.Token);
            if (response.IsSuccessStatusCode)
            {
                var report = await response.Content.ReadFromJsonAsync(QualityJsonContext.Default.PipelineQualityReport, timeout.Token);
                if (report is not null) return new PipelineQualityStatus(name, PipelineQualityStatus.Ok, null, report);
                reason = "invalid_response";
            }
            else
            {
                reason = $"http_{(int)response.StatusCode}";
            }
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            reason = "timeout";
        }
        catch (HttpRequestException)
        {
            reason = "connection_failed";
        }
        catch (Exception ex) when (ex is JsonException or NotSupportedException)
        {
            reason = "invalid_response";
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
        {
            // Whatever else the handler chain throws: still one pipeline's problem, not the answer's.
            reason = "connection_failed";
            LogFailed(ex, name);
        }
        LogUnreachable(name, reason);
        return new PipelineQualityStatus(name, PipelineQualityStatus.Unreachable, reason, null);
    }

    /// <summary>The stalest reachable pipeline, each reachable pipeline's rejects over the cycles its report holds, and the unreachable ones.</summary>
    public static PlatformQualitySummary Summarize(IReadOnlyList<PipelineQualityStatus> statuses)
    {
        var reachable = statuses.Where(s => s.Report is not null).ToList();
        var worst = reachable.Where(s => s.Report!.FreshnessSeconds is not null)
            .OrderByDescending(s => s.Report!.FreshnessSeconds).ThenBy(s => s.Name, StringComparer.Ordinal)
            .Select(s => new WorstFreshness(s.Name, s.Report!.FreshnessSeconds!.Value)).FirstOrDefault();
        var rejects = reachable.ToDictionary(s => s.Name, s => s.Report!.Cycles.Sum(c => c.RejectCount), StringComparer.Ordinal);
        var unreachable = statuses.Where(s => s.Report is null).Select(s => s.Name).ToList();
        return new PlatformQualitySummary(worst, rejects, unreachable);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Data quality: asking pipeline {Pipeline} for its /quality failed")]
    private partial void LogFailed(Exception exception, string pipeline);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Data quality: pipeline {Pipeline} did not answer its /quality ({Reason}); reported unreachable")]
    private partial void LogUnreachable(string pipeline, string reason);
}
