using System.CommandLine;
using DeepCluster.Actors.Cluster;
using DeepCluster.Actors.Control;
using DeepCluster.Actors.Hosting;
using DeepCluster.Api;

namespace DeepCluster.Cli.Commands;

/// <summary>
/// What every command that talks to a host's control API (<c>submit</c>, <c>list</c>, <c>status</c>, <c>pause</c>,
/// <c>resume ID</c>, <c>stop</c>, <c>logs</c>) shares: where the host is, its token and the certificate to trust, each
/// from a flag, else an environment variable, else the host's configuration. These commands use HttpClient only: they
/// start no actor system and load no TorchSharp.
/// </summary>
sealed class ControlOptions
{
    public const string HostVariable = "DEEPCLUSTER_HOST";
    public const string TokenFileVariable = "DEEPCLUSTER_TOKEN_FILE";
    public const string CaCertVariable = "DEEPCLUSTER_CACERT";
    public const string DefaultUrl = "http://127.0.0.1:8484";

    readonly Option<string?> host = new("--host")
    {
        Description = $"the host's control API, http(s)://HOST:PORT (default: ${HostVariable}, else deepcluster.host.api of --config, else {DefaultUrl})",
    };
    readonly Option<string?> tokenFile = new("--token-file")
    {
        Description = $"file holding the host's bearer token (default: ${TokenFileVariable}, else deepcluster.host.api.token-file of --config)",
    };
    readonly Option<string?> caCert = new("--cacert")
    {
        Description = $"certificate to trust for an https host with a self-signed certificate: PEM, DER or the host's PKCS#12 (default: ${CaCertVariable})",
    };
    readonly Option<string?> config;
    readonly bool ownConfig;

    /// <param name="config">The command's own <c>--config</c> (train's or resume's), read for the host's API settings; null: one of its own.</param>
    public ControlOptions(Option<string?>? config = null)
    {
        ownConfig = config is null;
        this.config = config ?? new Option<string?>("--config")
        {
            Description = "the host's HOCON configuration, for its API URL and token file (default: config/deepcluster.conf next to the program)",
        };
    }

    public void AddTo(Command cmd)
    {
        cmd.Options.Add(host);
        cmd.Options.Add(tokenFile);
        cmd.Options.Add(caCert);
        if (ownConfig) cmd.Options.Add(config);
    }

    /// <summary>Whether --host, --token-file or --cacert is on the command line.</summary>
    public bool Given(ParseResult pr) => new[] { host, tokenFile, caCert }.Any(o => pr.GetResult(o) is { Implicit: false });

    /// <summary>
    /// Runs <paramref name="body"/> with a client of the host; an unreachable host, a refused token, an unknown id or
    /// an error of the host is one line and exit 2.
    /// </summary>
    public async Task<int> RunAsync(ParseResult pr, CancellationToken ct, Func<ControlApiClient, Task<int>> body)
    {
        var (client, tokenSource) = Connect(pr);
        using (client)
        {
            try { return await body(client); }
            catch (ControlApiException e) when (e.Status == 401) { return Errors.Fail($"{client.Url} refused the token of {tokenSource}: {e.Message}"); }
            catch (UnknownExperimentException e) { return Errors.Fail($"{e.Message} ({client.Url})"); }
            catch (TimeoutException e) { return Errors.Fail(e.Message); }
        }
    }

    (ControlApiClient Client, string TokenSource) Connect(ParseResult pr)
    {
        var configFile = pr.GetValue(config);
        HostSettings? configured = null;
        var loaded = false;
        HostSettings? Configured()
        {
            if (loaded) return configured;
            loaded = true;
            if (configFile is null && !File.Exists(HostConfig.DefaultPath)) return null;
            var (hocon, _) = HostConfig.Load(configFile);
            var file = Path.GetFullPath(configFile ?? HostConfig.DefaultPath);
            return configured = HostSettingsLoader.From(hocon, file, Path.GetDirectoryName(file)!);
        }

        var url = pr.GetValue(host) ?? Variable(HostVariable) ?? Configured()?.Api.Url ?? DefaultUrl;
        // The token file, and how messages name it.
        var (tokenPath, tokenSource) = pr.GetValue(tokenFile) is { } flag ? (flag, $"--token-file {flag}")
            : Variable(TokenFileVariable) is { } env ? (env, $"{TokenFileVariable}={env}")
            : Configured()?.Api.TokenFile is { } key ? (key, $"{key} (deepcluster.host.api.token-file of {configFile ?? HostConfig.DefaultPath})")
            : throw new ArgumentException($"--token-file: no token file given; pass the host's deepcluster.host.api.token-file (or set {TokenFileVariable}).");
        var token = ReadToken(tokenPath, tokenSource);
        var cacert = pr.GetValue(caCert) ?? Variable(CaCertVariable);
        var trusted = cacert is null ? null : HostTrust.Load(cacert, Configured()?.Api.CertificatePassword);
        return (new ControlApiClient(url, token, trusted), tokenSource);
    }

    static string ReadToken(string file, string source)
    {
        if (!File.Exists(file))
            throw new FileNotFoundException($"{source}: no such file; the host writes its bearer token to its deepcluster.host.api.token-file " +
                                            "when it starts (give that file with --token-file).");
        string text;
        try { text = File.ReadAllText(file).Trim(); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        { throw new IOException($"{source}: cannot be read ({e.Message})."); }
        return text.Length > 0 ? text : throw new InvalidDataException($"{source}: the file is empty; expected the host's bearer token.");
    }

    static string? Variable(string name) => Environment.GetEnvironmentVariable(name) is { Length: > 0 } v ? v : null;
}
