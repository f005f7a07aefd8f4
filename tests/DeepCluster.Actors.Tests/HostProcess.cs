using System.Net;
using System.Net.Sockets;
using DeepCluster.Core.Tests.Support;

namespace DeepCluster.Actors.Tests;

/// <summary>
/// A `deepcluster host` process on 127.0.0.1 (Akka.Remote and the control API on ports of its own), and the CLI
/// commands that talk to it. Every node of a test shares one experiments folder and one token file.
/// </summary>
public sealed class HostProcess : IDisposable
{
    public static readonly TimeSpan StartTimeout = TimeSpan.FromMinutes(2);

    readonly CliProcess process;
    public int Port { get; }
    public int ApiPort { get; }
    public string Url => $"{(Https ? "https" : "http")}://127.0.0.1:{ApiPort}";
    /// <summary>The API is HTTPS (the config sets api.certificate); <see cref="CaCert"/> is the certificate the CLI trusts.</summary>
    public bool Https { get; init; }
    public string? CaCert { get; init; }
    public string Address => $"akka.tcp://deepcluster@127.0.0.1:{Port}";
    public string TokenFile { get; }
    public string Output => process.Output;
    public bool Exited => process.Exited;

    /// <param name="config">The --config file (its folder holds the token file).</param>
    /// <param name="extra">More flags: --seed-nodes, --journal, --roles.</param>
    public HostProcess(string config, string experiments, int? port = null, params string[] extra)
    {
        Port = port ?? FreePort();
        ApiPort = FreePort();
        TokenFile = Path.Combine(Path.GetDirectoryName(config)!, "api.token");
        process = new CliProcess(["host", "--config", config, "--experiments", experiments, "--port", Port.ToString(),
                                  "--api-port", ApiPort.ToString(), .. extra]);
        // A node serving the API says where last; any other says it is up.
        var api = !extra.Contains("--roles") || extra[Array.IndexOf(extra, "--roles") + 1].Contains("api");
        if (!process.WaitForLine(api ? "(bearer token in " : " up: roles ", StartTimeout))
            throw new InvalidOperationException("the host did not start:\n" + process.Output);
    }

    /// <summary>A config file for the nodes of a test: SBR decides after 5 s (20 s in production) so node loss is quick.</summary>
    public static string WriteConfig(TempDir dir, string more = "")
    {
        var path = dir.File("node.conf");
        File.WriteAllText(path, "deepcluster.host.stable-after = 5s\n" + more);
        return path;
    }

    /// <summary>Runs a control command of the CLI against this host; its exit code and output.</summary>
    public (int Code, string Output) Cli(params string[] args) =>
        Run([.. args, "--host", Url, .. CaCert is null ? Array.Empty<string>() : ["--cacert", CaCert]]);

    /// <summary>A control command sent as plain HTTP to this (HTTPS) host.</summary>
    public (int Code, string Output) CliPlainHttp(params string[] args) => Run([.. args, "--host", $"http://127.0.0.1:{ApiPort}"]);

    (int Code, string Output) Run(string[] args)
    {
        using var run = new CliProcess([.. args, "--token-file", TokenFile]);
        var code = run.WaitForExit(TimeSpan.FromMinutes(1));
        return (code, run.Output.Trim());
    }

    /// <summary>The value of one line of `deepcluster status ID` ("state", "phase", "nodes").</summary>
    public string Status(string id, string field)
    {
        var (code, output) = Cli("status", id);
        if (code != 0) throw new InvalidOperationException($"status {id} failed ({code}): {output}");
        var line = output.Split('\n').FirstOrDefault(l => l.StartsWith(field + " ", StringComparison.Ordinal));
        return line is null ? "" : line[field.Length..].Trim();
    }

    /// <summary>Polls `status ID` until <paramref name="until"/> holds for the named field; fails on a failed run.</summary>
    public string WaitFor(string id, string field, Func<string, bool> until, TimeSpan timeout)
    {
        var end = DateTime.UtcNow + timeout;
        while (true)
        {
            string value;
            try { value = Status(id, field); }
            catch (InvalidOperationException e) when (e.Message.Contains("did not answer") && DateTime.UtcNow < end)
            {
                Thread.Sleep(500);   // the cluster is moving the experiment (a node was lost): ask again
                continue;
            }
            if (until(value)) return value;
            if (Status(id, "state") == "failed") throw new Xunit.Sdk.XunitException($"experiment {id} failed: {Cli("status", id).Output}");
            if (DateTime.UtcNow > end) throw new TimeoutException($"experiment {id}: {field} is still '{value}'\n{Cli("status", id).Output}");
            Thread.Sleep(300);
        }
    }

    public void Signal(string name) => process.Signal(name);
    public void KillHard() => process.KillHard();
    public int WaitForExit(TimeSpan timeout) => process.WaitForExit(timeout);

    static readonly HashSet<int> Given = [];

    /// <summary>A free loopback port not handed out before in this test run (a port just released is free again).</summary>
    public static int FreePort()
    {
        lock (Given)
            while (true)
            {
                using var listener = new TcpListener(IPAddress.Loopback, 0);
                listener.Start();
                var port = ((IPEndPoint)listener.LocalEndpoint).Port;
                if (Given.Add(port)) return port;
            }
    }

    public void Dispose() => process.Dispose();
}
