using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using DeepCluster.Actors.Control;
using DeepCluster.Core.Experiment;

namespace DeepCluster.Api;

/// <summary>
/// The control API seen from a client (the <c>deepcluster submit/list/status/…</c> commands): an
/// <see cref="IExperimentControl"/> over HTTP. Nothing but <see cref="HttpClient"/>: no actor system, no TorchSharp.
/// Every failure is one line for the user: <see cref="UnknownExperimentException"/> (404),
/// <see cref="ArgumentException"/> (400), <see cref="TimeoutException"/> (503), otherwise
/// <see cref="ControlApiException"/> (unreachable, no answer in time, 401, any other error).
/// </summary>
public sealed class ControlApiClient : IExperimentControl, IDisposable
{
    readonly HttpClient http;
    readonly Uri root;
    readonly TimeSpan timeout;
    string? tlsProblem;

    /// <param name="url">The API's URL, <c>http(s)://HOST:PORT</c>.</param>
    /// <param name="token">The bearer token; null sends none.</param>
    /// <param name="trusted">Certificates trusted besides the system's (<c>--cacert</c>).</param>
    /// <param name="timeout">How long one request may take (default 10 s; connecting: at most 5 s).</param>
    public ControlApiClient(string url, string? token, X509Certificate2Collection? trusted = null, TimeSpan? timeout = null)
    {
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https") || string.IsNullOrEmpty(uri.Host))
            throw new ArgumentException($"--host {url}: expected the host's API URL, such as http://127.0.0.1:8484.");
        root = new Uri(uri.AbsoluteUri.TrimEnd('/') + "/");
        Url = uri.AbsoluteUri.TrimEnd('/');
        this.timeout = timeout ?? TimeSpan.FromSeconds(10);
        var handler = new SocketsHttpHandler { ConnectTimeout = this.timeout < TimeSpan.FromSeconds(5) ? this.timeout : TimeSpan.FromSeconds(5) };
        handler.SslOptions.RemoteCertificateValidationCallback = (_, certificate, _, errors) =>
        {
            var ok = HostTrust.Accept(certificate, errors, root.Host, trusted, out var problem);
            tlsProblem = problem;
            return ok;
        };
        http = new HttpClient(handler) { Timeout = Timeout.InfiniteTimeSpan };
        if (token is not null) http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
    }

    /// <summary>The API's URL as given, without a trailing slash.</summary>
    public string Url { get; }

    public async Task<string> SubmitAsync(TrainConfig config, CancellationToken ct)
    {
        var body = new StringContent(JsonSerializer.Serialize(config, ApiJson.Config), System.Text.Encoding.UTF8, "application/json");
        var answer = await SendAsync<JsonElement>(HttpMethod.Post, "api/experiments", body, ct);
        return answer.TryGetProperty("id", out var id) && id.ValueKind == JsonValueKind.String
            ? id.GetString()!
            : throw new ControlApiException($"{Url}: the answer to a submission has no id; is this a deepcluster host?");
    }

    public Task<IReadOnlyList<ExperimentStatusView>> ListAsync(CancellationToken ct) =>
        SendAsync<IReadOnlyList<ExperimentStatusView>>(HttpMethod.Get, "api/experiments", null, ct);

    public Task<ExperimentStatusView> StatusAsync(string id, CancellationToken ct) =>
        SendAsync<ExperimentStatusView>(HttpMethod.Get, Path(id), null, ct, id);

    public Task<ControlReply> PauseAsync(string id, CancellationToken ct) => SendAsync<ControlReply>(HttpMethod.Post, Path(id, "pause"), null, ct, id);
    public Task<ControlReply> ResumeAsync(string id, CancellationToken ct) => SendAsync<ControlReply>(HttpMethod.Post, Path(id, "resume"), null, ct, id);
    public Task<ControlReply> StopAsync(string id, CancellationToken ct) => SendAsync<ControlReply>(HttpMethod.Post, Path(id, "stop"), null, ct, id);

    public Task<LogChunk> LogsAsync(string id, long offset, CancellationToken ct) =>
        SendAsync<LogChunk>(HttpMethod.Get, Path(id, "logs") + $"?offset={offset}", null, ct, id);

    static string Path(string id, string? action = null) => $"api/experiments/{Uri.EscapeDataString(id)}" + (action is null ? "" : "/" + action);

    async Task<T> SendAsync<T>(HttpMethod method, string path, HttpContent? body, CancellationToken ct, string? id = null)
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(ct);
        cts.CancelAfter(timeout);
        tlsProblem = null;
        try
        {
            using var request = new HttpRequestMessage(method, new Uri(root, path)) { Content = body };
            using var response = await http.SendAsync(request, cts.Token);
            var json = response.Content.Headers.ContentType?.MediaType == "application/json";
            if (response.IsSuccessStatusCode && json)
                return await response.Content.ReadFromJsonAsync<T>(ApiJson.Web, cts.Token)
                       ?? throw new ControlApiException($"{Url}: empty answer to {method} /{path}.");
            var error = json ? await ErrorOf(response, cts.Token) : null;
            if (error is null)
                throw new ControlApiException($"{Url}: answered HTTP {(int)response.StatusCode} {response.ReasonPhrase} to {method} /{path}, not the " +
                                              "deepcluster control API's JSON; is --host the API of a deepcluster host?", (int)response.StatusCode);
            throw response.StatusCode switch
            {
                HttpStatusCode.NotFound when id is not null && error.StartsWith("no experiment", StringComparison.Ordinal) => new UnknownExperimentException(id),
                HttpStatusCode.BadRequest => new ArgumentException(error),
                HttpStatusCode.ServiceUnavailable => new TimeoutException($"{Url}: {error}"),
                _ => new ControlApiException(error, (int)response.StatusCode),
            };
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            throw new ControlApiException($"{Url}: no answer within {timeout.TotalSeconds:0.#} s; is the host overloaded, or is --host another service?");
        }
        catch (HttpRequestException e)
        {
            throw new ControlApiException($"cannot reach the control API at {Url}: {Reason(e)}");
        }
        catch (JsonException)
        {
            throw new ControlApiException($"{Url}: the answer to {method} /{path} is not what the deepcluster control API sends; is --host a deepcluster host?");
        }
    }

    static async Task<string?> ErrorOf(HttpResponseMessage response, CancellationToken ct)
    {
        try { return (await response.Content.ReadFromJsonAsync<ApiErrors.Body>(ApiJson.Web, ct))?.Error; }
        catch (JsonException) { return null; }
    }

    string Reason(HttpRequestException e)
    {
        if (tlsProblem is not null) return tlsProblem + ".";
        var socket = e.InnerException as SocketException ?? e.InnerException?.InnerException as SocketException;
        const string Running = "is `deepcluster host` running there with the api role? (--host, DEEPCLUSTER_HOST)";
        return socket?.SocketErrorCode switch
        {
            SocketError.ConnectionRefused => $"connection refused; {Running}",
            SocketError.HostNotFound or SocketError.NoData => $"unknown host {root.Host}.",
            SocketError.TimedOut or SocketError.HostUnreachable or SocketError.NetworkUnreachable => $"{ApiJson.OneLine(socket.Message)}; {Running}",
            _ => e.HttpRequestError switch
            {
                HttpRequestError.SecureConnectionError => "the TLS handshake failed; is the host's API plain http:// rather than https://?",
                HttpRequestError.ResponseEnded or HttpRequestError.InvalidResponse when root.Scheme == "http" =>
                    "the connection was closed without an answer; is the host's API https:// (a certificate is configured)?",
                _ => ApiJson.OneLine(e.Message),
            },
        };
    }

    public void Dispose() => http.Dispose();
}
