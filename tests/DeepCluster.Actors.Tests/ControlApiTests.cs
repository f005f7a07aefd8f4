using System.Diagnostics;
using System.Net;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using DeepCluster.Actors.Cluster;
using DeepCluster.Actors.Control;
using DeepCluster.Api;
using DeepCluster.Core.Experiment;
using DeepCluster.Core.Tests.Support;

namespace DeepCluster.Actors.Tests;

/// <summary>
/// The host's control API over an in-memory <see cref="IExperimentControl"/>: the wire format (JSON, status codes),
/// the bearer token, errors as one JSON line, HTTPS with a certificate the test makes.
/// </summary>
public class ControlApiTests
{
    static readonly CancellationToken None = CancellationToken.None;

    static async Task<(HttpStatusCode Status, JsonElement Body)> Send(HttpClient http, HttpMethod method, string path, string? body = null)
    {
        using var request = new HttpRequestMessage(method, path);
        if (body is not null) request.Content = new StringContent(body, Encoding.UTF8, "application/json");
        using var response = await http.SendAsync(request);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        var text = await response.Content.ReadAsStringAsync();
        return (response.StatusCode, JsonDocument.Parse(text).RootElement.Clone());
    }

    /// <summary>An error answer: the status and {"error": "one line"} holding <paramref name="expected"/>, no stack trace.</summary>
    static void AssertError(HttpStatusCode expectedStatus, string expected, (HttpStatusCode Status, JsonElement Body) answer)
    {
        Assert.Equal(expectedStatus, answer.Status);
        var error = answer.Body.GetProperty("error").GetString()!;
        Assert.Contains(expected, error);
        Assert.DoesNotContain('\n', error);
        Assert.DoesNotMatch(@"\bat \S+\(", error);   // no stack frame
        Assert.Single(answer.Body.EnumerateObject());
    }

    [Fact]
    public async Task EveryEndpointAnswersWhatTheControlSays()
    {
        await using var host = await ControlApiHost.StartAsync();
        Assert.StartsWith("http://127.0.0.1:", host.Url);
        Assert.NotEqual(0, new Uri(host.Url).Port);
        using var http = host.Http();

        var config = new TrainConfig { Data = "/data/fmnist", Exp = "", Arch = "alexnet_small", NmbCluster = 7, Lr = 0.01, Limit = 300 };
        var (status, body) = await Send(http, HttpMethod.Post, "/api/experiments", JsonSerializer.Serialize(config, TrainConfig.Json));
        Assert.Equal(HttpStatusCode.Created, status);
        Assert.Equal("exp1", body.GetProperty("id").GetString());
        Assert.Equal(config, Assert.Single(host.Control.Submitted));

        var view = host.Control.Add("run2", metrics: "{\"epoch\": 2}");
        host.Control.AppendLog("run2", "epoch 0 done\nepoch 1 done\nepoch 2 half");
        using var client = new ControlApiClient(host.Url, host.Token);
        var got = await client.StatusAsync("run2", None);
        Assert.Equal(view with { Nodes = null! }, got with { Nodes = null! });
        Assert.Equal(view.Nodes, got.Nodes);
        Assert.Equal(["run2", "exp1"], (await client.ListAsync(None)).Select(v => v.Id));
        (status, body) = await Send(http, HttpMethod.Get, "/api/experiments/run2");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("clustering", body.GetProperty("phase").GetString());   // the web's camelCase
        Assert.Equal(5000, body.GetProperty("total").GetInt64());

        Assert.Equal(new ControlReply("run2", RunStates.Pausing, "run2: pausing"), await client.PauseAsync("run2", None));
        Assert.Equal(RunStates.Running, (await client.ResumeAsync("run2", None)).State);
        Assert.Equal(RunStates.Stopped, (await client.StopAsync("run2", None)).State);

        // Whole lines only; the next offset continues after them.
        var chunk = await client.LogsAsync("run2", 0, None);
        Assert.Equal(["epoch 0 done", "epoch 1 done"], chunk.Lines);
        Assert.Equal(RunStates.Stopped, chunk.State);
        host.Control.AppendLog("run2", " ends\n");
        chunk = await client.LogsAsync("run2", chunk.NextOffset, None);
        Assert.Equal(["epoch 2 half ends"], chunk.Lines);

        Assert.Equal(["submit", "status run2", "list", "status run2", "pause run2", "resume run2", "stop run2", "logs run2 0", "logs run2 26"],
                     host.Control.Calls);
    }

    [Fact]
    public async Task WithoutTheRightTokenEveryRequestIs401AndReachesNoExperiment()
    {
        await using var host = await ControlApiHost.StartAsync();
        host.Control.Add("run1");
        foreach (var (token, expected) in new[] { (null, "missing bearer token"), ("wrong", "wrong bearer token"), (host.Token + "x", "wrong bearer token"),
                                                  (host.Token[..^1], "wrong bearer token") })
        {
            using var http = host.Http(token);
            foreach (var (method, path) in new[] { (HttpMethod.Get, "/api/experiments"), (HttpMethod.Get, "/api/experiments/run1"),
                                                   (HttpMethod.Post, "/api/experiments/run1/stop"), (HttpMethod.Get, "/api/nothing") })
                AssertError(HttpStatusCode.Unauthorized, expected, await Send(http, method, path));
        }
        using (var basic = host.Http(null))
        {
            basic.DefaultRequestHeaders.Authorization = new("Basic", host.Token);
            AssertError(HttpStatusCode.Unauthorized, "wrong bearer token", await Send(basic, HttpMethod.Get, "/api/experiments"));
            // The health check needs no token and says nothing else.
            var (status, body) = await Send(basic, HttpMethod.Get, "/api/health");
            Assert.Equal(HttpStatusCode.OK, status);
            Assert.Equal("ok", body.GetProperty("status").GetString());
        }
        Assert.Empty(host.Control.Calls);
        Assert.True(ApiToken.Matches("abc", "abc"));
        Assert.False(ApiToken.Matches("abc", "abd"));
        Assert.False(ApiToken.Matches("abc", null));
    }

    [Fact]
    public async Task UnknownIdsAndEndpointsAre404AndAFailingHostIsOneLine()
    {
        await using var host = await ControlApiHost.StartAsync();
        using var http = host.Http();
        AssertError(HttpStatusCode.NotFound, "no experiment nosuch on this host", await Send(http, HttpMethod.Get, "/api/experiments/nosuch"));
        AssertError(HttpStatusCode.NotFound, "no experiment nosuch", await Send(http, HttpMethod.Post, "/api/experiments/nosuch/pause"));
        AssertError(HttpStatusCode.NotFound, "no experiment nosuch", await Send(http, HttpMethod.Get, "/api/experiments/nosuch/logs?offset=0"));
        AssertError(HttpStatusCode.NotFound, "no endpoint GET /api/other", await Send(http, HttpMethod.Get, "/api/other"));
        AssertError(HttpStatusCode.MethodNotAllowed, "no endpoint GET /api/experiments/x/stop", await Send(http, HttpMethod.Get, "/api/experiments/x/stop"));
        host.Control.Add("run1");
        AssertError(HttpStatusCode.BadRequest, "offset -5: expected a whole number", await Send(http, HttpMethod.Get, "/api/experiments/run1/logs?offset=-5"));

        host.Control.Failure = new InvalidOperationException("shard region gone\n   at Somewhere.Deep()");
        AssertError(HttpStatusCode.InternalServerError, "internal error (InvalidOperationException: shard region gone)", await Send(http, HttpMethod.Get, "/api/experiments"));
        Assert.Contains(host.Log, l => l.Contains("GET /api/experiments") && l.Contains("shard region gone"));
    }

    [Theory]
    [InlineData("{\"data\": \"/d\", \"lr\": ", "request body")]
    [InlineData("not json", "request body")]
    [InlineData("", "request body")]
    [InlineData("[1, 2]", "request body")]
    [InlineData("{\"data\": \"/d\", \"lr\": \"fast\"}", "field lr: The JSON value could not be converted to a number")]
    [InlineData("{\"data\": \"/d\", \"nmb_cluster\": 1.5}", "field nmb_cluster: The JSON value could not be converted to a whole number")]
    [InlineData("{\"data\": \"/d\", \"nmb-cluster\": 5}", "The JSON property 'nmb-cluster' is not a setting of an experiment")]
    [InlineData("{\"data\": null}", "field data: the dataset's path is missing")]
    [InlineData("{\"data\": \"fmnist\"}", "field data fmnist: give an absolute path")]
    [InlineData("{\"data\": \"/d\", \"resume\": \"c.pth\"}", "field resume c.pth: give an absolute path")]
    [InlineData("{\"arch\": \"alexnet\"}", "missing required properties including: 'data'")]
    [InlineData("{\"data\": \"/d\", \"lr\": -1}", "--lr -1: must be a positive number")]
    [InlineData("{\"data\": \"/d\", \"arch\": \"resnet\"}", "--arch resnet: unknown architecture")]
    public async Task ABadBodyIs400NamingTheProblemAndSubmitsNothing(string body, string expected)
    {
        await using var host = await ControlApiHost.StartAsync();
        using var http = host.Http();
        AssertError(HttpStatusCode.BadRequest, expected, await Send(http, HttpMethod.Post, "/api/experiments", body));
        Assert.Empty(host.Control.Submitted);
    }

    [Fact]
    public async Task AControlThatDoesNotAnswerIs503InTime()
    {
        await using var host = await ControlApiHost.StartAsync(controlTimeout: TimeSpan.FromMilliseconds(500));
        host.Control.Hang = true;
        using var http = host.Http();
        var clock = Stopwatch.StartNew();
        AssertError(HttpStatusCode.ServiceUnavailable, "did not answer within 0.5 s", await Send(http, HttpMethod.Get, "/api/experiments"));
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), clock.Elapsed.ToString());
        using var client = new ControlApiClient(host.Url, host.Token);
        var e = await Assert.ThrowsAsync<TimeoutException>(() => client.StatusAsync("x", None));
        Assert.Contains("did not answer", e.Message);
    }

    [Fact]
    public async Task AnAbsentTokenFileIsMadeReadableByItsOwnerOnlyAndAnExistingOneIsKept()
    {
        await using (var host = await ControlApiHost.StartAsync())
        {
            Assert.Matches("^[0-9a-f]{64}$", host.Token);
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(host.TokenFile));
            Assert.Contains(host.Log, l => l.Contains("wrote a new bearer token to " + host.TokenFile));
        }
        using var dir = new TempDir();
        var file = dir.File("sub/token");
        Directory.CreateDirectory(dir.File("sub"));
        File.WriteAllText(file, "my-own-token\n");
        var log = new List<string>();
        await using var server = await ControlApiServer.StartAsync(new ApiSettings("127.0.0.1", 0, file, null, null), new FakeExperimentControl(), None,
                                                                   new ControlApiOptions { Log = log.Add });
        Assert.Equal("my-own-token\n", File.ReadAllText(file));
        Assert.Contains(log, l => l.Contains("readable by other users"));   // 0644 from the umask: said, not refused
        using var client = new ControlApiClient(server.Url, "my-own-token");
        Assert.Empty(await client.ListAsync(None));
    }

    [Fact]
    public async Task HttpsWithAPkcs12CertificateIsTrustedOnlyWithCacert()
    {
        using var dir = new TempDir();
        ControlApiHost.MakeCertificate(dir.File("host.p12"), dir.File("host.pem"), "secret");
        await using var host = await ControlApiHost.StartAsync(dir.File("host.p12"), "secret");
        Assert.StartsWith("https://127.0.0.1:", host.Url);
        host.Control.Add("run1");

        using (var trusting = new ControlApiClient(host.Url, host.Token, HostTrust.Load(dir.File("host.pem"))))
            Assert.Equal("run1", (await trusting.StatusAsync("run1", None)).Id);
        using (var withP12 = new ControlApiClient(host.Url, host.Token, HostTrust.Load(dir.File("host.p12"), "secret")))
            Assert.Single(await withP12.ListAsync(None));

        using var untrusting = new ControlApiClient(host.Url, host.Token);
        var e = await Assert.ThrowsAsync<ControlApiException>(() => untrusting.ListAsync(None));
        Assert.Contains("not trusted", e.Message);
        Assert.Contains("--cacert", e.Message);
        // Another self-signed certificate is no substitute.
        ControlApiHost.MakeCertificate(dir.File("other.p12"), dir.File("other.pem"), null);
        using var wrong = new ControlApiClient(host.Url, host.Token, HostTrust.Load(dir.File("other.pem")));
        e = await Assert.ThrowsAsync<ControlApiException>(() => wrong.ListAsync(None));
        Assert.Contains("not the --cacert certificate", e.Message);
        // Plain HTTP to the HTTPS port is one line too.
        using var plain = new ControlApiClient(host.Url.Replace("https:", "http:"), host.Token);
        e = await Assert.ThrowsAsync<ControlApiException>(() => plain.ListAsync(None));
        Assert.Contains("cannot reach the control API", e.Message);
    }

    [Fact]
    public async Task BadCertificateSettingsNameTheKey()
    {
        using var dir = new TempDir();
        ControlApiHost.MakeCertificate(dir.File("host.p12"), dir.File("host.pem"), "secret");
        var control = new FakeExperimentControl();
        ApiSettings Settings(string? cert, string? password) => new("127.0.0.1", 0, dir.File("token"), cert, password);
        var e1 = await Assert.ThrowsAsync<FileNotFoundException>(() => ControlApiServer.StartAsync(Settings(dir.File("none.p12"), null), control, None));
        Assert.Contains("deepcluster.host.api.certificate", e1.Message);
        var e2 = await Assert.ThrowsAsync<InvalidDataException>(() => ControlApiServer.StartAsync(Settings(dir.File("host.p12"), "wrong"), control, None));
        Assert.Contains("deepcluster.host.api.certificate-password", e2.Message);
        var e3 = await Assert.ThrowsAsync<InvalidDataException>(() => ControlApiServer.StartAsync(Settings(dir.File("host.pem"), null), control, None));
        Assert.Contains("not a PKCS#12 file", e3.Message);
        // A port in use names the key as well.
        await using var first = await ControlApiServer.StartAsync(Settings(null, null), control, None, new ControlApiOptions { Log = _ => { } });
        var port = new Uri(first.Url).Port;
        var e4 = await Assert.ThrowsAsync<IOException>(() => ControlApiServer.StartAsync(new ApiSettings("127.0.0.1", port, dir.File("token"), null, null), control, None));
        Assert.Contains($"deepcluster.host.api: cannot listen on 127.0.0.1:{port}", e4.Message);
    }
}
