using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using DeepCluster.Actors.Cluster;
using DeepCluster.Api;
using DeepCluster.Core.Tests.Support;

namespace DeepCluster.Actors.Tests;

/// <summary>
/// A <see cref="ControlApiServer"/> over a <see cref="FakeExperimentControl"/> on 127.0.0.1, any free port, with its
/// token file (and certificate, for HTTPS) in a temporary folder; its log lines are kept.
/// </summary>
public sealed class ControlApiHost : IAsyncDisposable
{
    public TempDir Dir { get; } = new();
    public FakeExperimentControl Control { get; } = new();
    public List<string> Log { get; } = new();
    public ControlApiServer Server { get; private set; } = null!;
    public ApiSettings Settings { get; private set; } = null!;

    public string Url => Server.Url;
    public string TokenFile => Settings.TokenFile;
    public string Token => File.ReadAllText(TokenFile).Trim();

    /// <param name="certificate">A PKCS#12 file: HTTPS.</param>
    public static async Task<ControlApiHost> StartAsync(string? certificate = null, string? password = null, TimeSpan? controlTimeout = null)
    {
        var host = new ControlApiHost();
        host.Settings = new ApiSettings("127.0.0.1", 0, host.Dir.File("api.token"), certificate, password);
        var options = new ControlApiOptions { Log = line => { lock (host.Log) host.Log.Add(line); } };
        if (controlTimeout is { } t) options = options with { ControlTimeout = t };
        host.Server = await ControlApiServer.StartAsync(host.Settings, host.Control, CancellationToken.None, options);
        return host;
    }

    /// <summary>A client of the raw API, with the token unless told otherwise.</summary>
    public HttpClient Http(string? token = "", HttpMessageHandler? handler = null)
    {
        var http = handler is null ? new HttpClient() : new HttpClient(handler);
        http.BaseAddress = new Uri(Url);
        if (token == "") token = Token;
        if (token is not null) http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
        return http;
    }

    public async ValueTask DisposeAsync()
    {
        if (Server is not null) await Server.DisposeAsync();
        Dir.Dispose();
    }

    /// <summary>
    /// A self-signed server certificate for 127.0.0.1 and localhost, written as PKCS#12 (<paramref name="p12"/>, with
    /// <paramref name="password"/>) and as PEM (<paramref name="pem"/>, the certificate only).
    /// </summary>
    public static void MakeCertificate(string p12, string pem, string? password)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=deepcluster test host", key, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        names.AddIpAddress(IPAddress.Loopback);
        names.AddDnsName("localhost");
        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, false));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
        File.WriteAllBytes(p12, certificate.Export(X509ContentType.Pkcs12, password));
        File.WriteAllText(pem, certificate.ExportCertificatePem());
    }
}
