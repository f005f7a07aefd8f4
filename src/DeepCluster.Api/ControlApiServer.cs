using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using DeepCluster.Actors.Cluster;
using DeepCluster.Actors.Control;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace DeepCluster.Api;

/// <summary>
/// The host's HTTP+JSON control API (role <c>api</c>): an ASP.NET Core minimal API over an
/// <see cref="IExperimentControl"/>, listening on <see cref="ApiSettings.Bind"/>:<see cref="ApiSettings.Port"/> (HTTPS
/// when <see cref="ApiSettings.Certificate"/> is set), every request but <c>GET /api/health</c> needing
/// <c>Authorization: Bearer TOKEN</c> with the token of <see cref="ApiSettings.TokenFile"/> (made when absent).
/// </summary>
/// <remarks>
/// Endpoints: <c>POST /api/experiments</c> (a <see cref="DeepCluster.Core.Experiment.TrainConfig"/> as config.json
/// writes it) → 201 <c>{"id"}</c>; <c>GET /api/experiments</c>; <c>GET /api/experiments/{id}</c>;
/// <c>POST /api/experiments/{id}/pause|resume|stop</c>; <c>GET /api/experiments/{id}/logs?offset=N</c>;
/// <c>GET /api/experiments/{id}/report</c> (the experiment's <c>report.html</c>, as HTML);
/// <c>GET /api/health</c>. Errors: <c>{"error": "one line"}</c> with 400 (bad input), 401 (token), 404 (unknown id or
/// endpoint), 503 (the experiments did not answer in time), 500 (anything else).
/// </remarks>
public sealed class ControlApiServer : IAsyncDisposable
{
    readonly WebApplication app;

    ControlApiServer(WebApplication app, string url) { this.app = app; Url = url; }

    /// <summary>The URL clients reach the API at, with the port actually bound (<c>http://127.0.0.1:8484</c>).</summary>
    public string Url { get; }

    /// <summary>
    /// Reads (or makes) the token, loads the certificate and starts listening. Bad settings (a certificate that does
    /// not load, a port in use, an address that is not this machine's) throw <see cref="InvalidDataException"/> or
    /// <see cref="IOException"/> naming the <c>deepcluster.host.api</c> key.
    /// </summary>
    public static async Task<ControlApiServer> StartAsync(ApiSettings settings, IExperimentControl control, CancellationToken ct,
                                                          ControlApiOptions? options = null)
    {
        options ??= new ControlApiOptions();
        var address = Address(settings.Bind);
        var certificate = settings.Certificate is null ? null : LoadCertificate(settings.Certificate, settings.CertificatePassword);
        var token = ApiToken.ReadOrCreate(settings.TokenFile, options.Log);

        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions { ApplicationName = typeof(ControlApiServer).Assembly.GetName().Name });
        // Warnings only; a start that fails (a port in use) is the one line StartAsync throws, not a logged stack trace too.
        builder.Logging.AddSimpleConsole(o => o.SingleLine = true).SetMinimumLevel(LogLevel.Warning)
               .AddFilter("Microsoft.Extensions.Hosting", LogLevel.None);
        builder.Services.AddRoutingCore();
        builder.WebHost.UseKestrelCore().ConfigureKestrel(k =>
        {
            k.AddServerHeader = false;
            k.Limits.MaxRequestBodySize = 1 << 20;
            k.Listen(address, settings.Port, listen => { if (certificate is not null) listen.UseHttps(certificate); });
        });
        var app = builder.Build();
        app.Use((ctx, next) => Guard(ctx, next, token, options));
        app.UseRouting();
        ControlApiRoutes.Map(app, control, options.ControlTimeout);

        try { await app.StartAsync(ct); }
        catch (IOException e)
        {
            await app.DisposeAsync();
            throw new IOException($"deepcluster.host.api: cannot listen on {settings.Bind}:{settings.Port} ({ApiJson.OneLine(e.Message)}).");
        }
        var bound = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());
        // As clients name it: a wildcard is reached on loopback, a host name stays a name (an HTTPS certificate names it).
        var host = settings.Bind is "0.0.0.0" or "::" or "*" ? "127.0.0.1"
            : !IPAddress.TryParse(settings.Bind, out _) ? settings.Bind
            : address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? $"[{address}]" : address.ToString();
        return new ControlApiServer(app, $"{bound.Scheme}://{host}:{bound.Port}");
    }

    /// <summary>
    /// Every request: the token (but for the health check), then the endpoint; an exception or an unmatched path
    /// becomes <c>{"error": …}</c>.
    /// </summary>
    static async Task Guard(HttpContext ctx, RequestDelegate next, string token, ControlApiOptions options)
    {
        try
        {
            if (ctx.Request.Path != ControlApiRoutes.Health)
            {
                var header = ctx.Request.Headers.Authorization.ToString();
                if (header.Length == 0)
                {
                    await ApiErrors.Write(ctx, StatusCodes.Status401Unauthorized, "missing bearer token: send the header 'Authorization: Bearer TOKEN' with the host's token (deepcluster.host.api.token-file)");
                    return;
                }
                var given = header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) ? header["Bearer ".Length..].Trim() : null;
                if (!ApiToken.Matches(token, given))
                {
                    await ApiErrors.Write(ctx, StatusCodes.Status401Unauthorized, "wrong bearer token: use the token in the host's deepcluster.host.api.token-file");
                    return;
                }
            }
            await next(ctx);
            if (!ctx.Response.HasStarted && ctx.Response.StatusCode is StatusCodes.Status404NotFound or StatusCodes.Status405MethodNotAllowed)
                await ApiErrors.Write(ctx, ctx.Response.StatusCode, $"no endpoint {ctx.Request.Method} {ctx.Request.Path}; see GET /api/experiments");
        }
        catch (Exception) when (ctx.RequestAborted.IsCancellationRequested) { /* the client left: nobody to answer */ }
        catch (Exception e) when (!ctx.Response.HasStarted)
        {
            var (status, message) = ApiErrors.Map(e, options.ControlTimeout);
            if (status >= StatusCodes.Status500InternalServerError)
                options.Log($"control API: {ctx.Request.Method} {ctx.Request.Path}: {ApiJson.OneLine(message)}");
            await ApiErrors.Write(ctx, status, message);
        }
    }

    static IPAddress Address(string bind)
    {
        if (bind is "*") return IPAddress.Any;
        if (bind is "localhost") return IPAddress.Loopback;
        if (IPAddress.TryParse(bind, out var address)) return address;
        try
        {
            var all = Dns.GetHostAddresses(bind);
            return all.FirstOrDefault(a => a.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork) ?? all.First();
        }
        catch (Exception e) when (e is System.Net.Sockets.SocketException or InvalidOperationException or ArgumentException)
        { throw new InvalidDataException($"deepcluster.host.api.bind {bind}: not an address of this machine ({e.Message})."); }
    }

    static X509Certificate2 LoadCertificate(string file, string? password)
    {
        if (!File.Exists(file)) throw new FileNotFoundException($"deepcluster.host.api.certificate {file}: file not found.");
        X509Certificate2 certificate;
        try { certificate = X509CertificateLoader.LoadPkcs12FromFile(file, password); }
        catch (CryptographicException e)
        {
            throw new InvalidDataException($"deepcluster.host.api.certificate {file}: not a PKCS#12 file, or deepcluster.host.api.certificate-password " +
                                           $"is wrong ({ApiJson.OneLine(e.Message)}).");
        }
        if (!certificate.HasPrivateKey)
            throw new InvalidDataException($"deepcluster.host.api.certificate {file}: holds no private key; HTTPS needs the certificate with its key.");
        return certificate;
    }

    /// <summary>Stops listening; requests in flight get a moment to finish.</summary>
    public async ValueTask DisposeAsync()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(2));
        try { await app.StopAsync(cts.Token); } catch (OperationCanceledException) { }
        await app.DisposeAsync();
    }
}
