using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using DeepCluster.Actors.Control;
using DeepCluster.Core.Tests.Support;

namespace DeepCluster.Actors.Tests;

/// <summary>
/// The CLI commands that control a host (`submit`, `list`, `status`, `pause`, `resume ID`, `stop`, `logs`) against a
/// control API over an in-memory control: what they send and print, and every failure as one line with exit 2.
/// </summary>
[Collection("console")]
public class ControlCliTests
{
    static (int Code, string Out, string Err) Run(ControlApiHost host, params string[] args) =>
        TrainCliTests.Run([.. args, "--host", host.Url, "--token-file", host.TokenFile]);

    static void AssertOk((int Code, string Out, string Err) r)
    {
        Assert.True(r.Code == 0, $"exit {r.Code}\n{r.Out}{r.Err}");
        Assert.Equal("", r.Err);
    }

    [Fact]
    public async Task SubmitSendsTrainsParsedFlagsWithAnAbsoluteDirAndPrintsOnlyTheId()
    {
        await using var host = await ControlApiHost.StartAsync();
        var relative = Path.GetRelativePath(Environment.CurrentDirectory, CliProcess.FashionMnist);
        var r = Run(host, "submit", relative, "--arch", "alexnet_small", "--sobel", "--k", "7", "--lr", "0.01", "--epochs", "3", "--limit", "300",
                    "--seed", "5", "--workers", "2", "--batch", "32", "--precision", "bf16",
                    "--resume", Path.Combine(CliProcess.FashionMnist, "train-labels-idx1-ubyte.gz"));
        AssertOk(r);
        Assert.Equal("exp1\n", r.Out);
        var sent = Assert.Single(host.Control.Submitted);
        Assert.Equal(CliProcess.FashionMnist, sent.Data);
        Assert.Equal(("alexnet_small", true, 7, 0.01, 3, 300, 5, 2, 32), (sent.Arch, sent.Sobel, sent.NmbCluster, sent.Lr, sent.Epochs, sent.Limit, sent.Seed,
                                                                          sent.Workers, sent.Batch));
        Assert.Equal(Path.Combine(CliProcess.FashionMnist, "train-labels-idx1-ubyte.gz"), sent.Resume);
        Assert.Equal("", sent.Exp);
        // Every other flag has train's default.
        var defaults = new Core.Experiment.TrainConfig { Data = sent.Data, Exp = "" };
        Assert.Equal(defaults with { Arch = "alexnet_small", Sobel = true, NmbCluster = 7, Lr = 0.01, Epochs = 3, Limit = 300, Seed = 5, Workers = 2,
                                     Batch = 32, Resume = sent.Resume, Precision = "bf16" }, sent);
    }

    [Theory]
    [InlineData("--exp x --k 10", "--exp: the host places each submitted experiment in its own folder")]
    [InlineData("--restart --k 10", "--restart: a submitted experiment is always new")]
    [InlineData("--journal sqlite --k 10", "--journal: the host journals its experiments as its configuration says")]
    [InlineData("--k 0", "--nmb_cluster 0: must be positive")]
    [InlineData("--k 100000", "--nmb_cluster 100000: more clusters than images (1000)")]
    [InlineData("--k 10 --arch resnet", "--arch: Argument 'resnet' not recognized")]
    [InlineData("--k 10 --data-format imagefolder", "fashion-mnist")]
    [InlineData("--k 10 --resume nowhere.pth", "nowhere.pth: no checkpoint found at this path")]
    public async Task SubmitChecksFlagsAsTrainDoesAndSendsNothingWhenOneIsBad(string flags, string expected)
    {
        await using var host = await ControlApiHost.StartAsync();
        var (code, output, err) = Run(host, ["submit", CliProcess.FashionMnist, "--limit", "1000", .. flags.Split(' ')]);
        CliErrors.AssertOneLine(code, output, err, expected);
        Assert.Empty(host.Control.Calls);
    }

    [Fact]
    public async Task ListStatusPauseResumeStopAndLogsRoundTrip()
    {
        await using var host = await ControlApiHost.StartAsync();
        var r = Run(host, "list");
        Assert.Equal(0, r.Code);
        Assert.Contains("no experiments on " + host.Url, r.Err);
        host.Control.Add("alpha", metrics: "{\"epoch\": 2, \"loss\": 1.5}");
        host.Control.Add("beta", RunStates.Paused);
        host.Control.AppendLog("alpha", "epoch 0 done\nepoch 1 done\n");

        r = Run(host, "list");
        AssertOk(r);
        var lines = r.Out.TrimEnd().Split('\n');
        Assert.Equal(3, lines.Length);
        Assert.Matches(@"^ID\s+STATE\s+EPOCH\s+PHASE\s+PROGRESS\s+SUBMITTED$", lines[0]);
        Assert.Matches(@"^beta\s+paused\s+3/10\s+clustering\s+1200/5000 rows \(350\.2/s\)\s+2025-01-0\d", lines[1]);
        Assert.StartsWith("alpha ", lines[2]);

        r = Run(host, "status", "alpha");
        AssertOk(r);
        Assert.Contains("state      running\n", r.Out);
        Assert.Contains("epoch      3 (last: 9)\n", r.Out);
        Assert.Contains("phase      clustering, 1200/5000 rows (350.2/s)\n", r.Out);
        Assert.Contains("metrics    {\"epoch\": 2, \"loss\": 1.5}\n", r.Out);
        Assert.Contains("nodes      features on akka.tcp://deepcluster@127.0.0.1:4054\n", r.Out);
        Assert.DoesNotContain("error", r.Out);

        AssertOk(r = Run(host, "pause", "alpha"));
        Assert.Equal("alpha: pausing\n", r.Out);
        AssertOk(r = Run(host, "resume", "alpha"));
        Assert.Equal("alpha: running\n", r.Out);
        AssertOk(r = Run(host, "stop", "alpha"));
        Assert.Equal("alpha: stopped\n", r.Out);
        AssertOk(r = Run(host, "logs", "alpha"));
        Assert.Equal("epoch 0 done\nepoch 1 done\n", r.Out);
        Assert.Equal(["list", "list", "status alpha", "pause alpha", "resume alpha", "stop alpha", "logs alpha 0"], host.Control.Calls);
    }

    [Fact]
    public async Task ResumeOfAnExistingFolderStaysInThisProcess()
    {
        await using var host = await ControlApiHost.StartAsync();
        using var dir = new TempDir();
        // An existing folder is resumed here: config.json is missing, nothing reaches the host.
        var (code, output, err) = TrainCliTests.Run("resume", dir.Path);
        CliErrors.AssertOneLine(code, output, err, $"{dir.Path}: no experiment here (config.json missing)");
        Assert.Empty(host.Control.Calls);
        // With --host (or --token-file, --cacert) the argument is always an id.
        (code, output, err) = Run(host, "resume", dir.Path);
        CliErrors.AssertOneLine(code, output, err, $"no experiment {dir.Path} on this host");
        Assert.Equal([$"resume {dir.Path}"], host.Control.Calls);
        // An id with --epochs: the flag is for folders only.
        (code, output, err) = Run(host, "resume", "alpha", "--epochs", "5");
        CliErrors.AssertOneLine(code, output, err, "--epochs: only for continuing an experiment folder in this process");
        Assert.Single(host.Control.Calls);
    }

    [Fact]
    public async Task AWrongOrMissingTokenAnUnknownIdAndAHostErrorAreOneLineAndExit2()
    {
        await using var host = await ControlApiHost.StartAsync();
        host.Control.Add("alpha");
        using var dir = new TempDir();
        File.WriteAllText(dir.File("wrong"), "not-the-token\n");
        var (code, output, err) = TrainCliTests.Run("status", "alpha", "--host", host.Url, "--token-file", dir.File("wrong"));
        CliErrors.AssertOneLine(code, output, err, $"{host.Url} refused the token of --token-file {dir.File("wrong")}: wrong bearer token");

        (code, output, err) = TrainCliTests.Run("status", "alpha", "--host", host.Url, "--token-file", dir.File("none"));
        CliErrors.AssertOneLine(code, output, err, $"--token-file {dir.File("none")}: no such file");

        (code, output, err) = Run(host, "pause", "nosuch");
        CliErrors.AssertOneLine(code, output, err, $"no experiment nosuch on this host ({host.Url})");
        (code, output, err) = Run(host, "logs", "nosuch", "--follow");
        CliErrors.AssertOneLine(code, output, err, "no experiment nosuch on this host");

        host.Control.Failure = new InvalidOperationException("journal unavailable");
        (code, output, err) = Run(host, "list");
        CliErrors.AssertOneLine(code, output, err, "internal error (InvalidOperationException: journal unavailable)");

        (code, output, err) = TrainCliTests.Run("list", "--host", "127.0.0.1:8484", "--token-file", host.TokenFile);
        CliErrors.AssertOneLine(code, output, err, "--host 127.0.0.1:8484: expected the host's API URL, such as http://127.0.0.1:8484");
    }

    [Fact]
    public void AnUnreachableHostIsOneLineAtOnce()
    {
        using var dir = new TempDir();
        File.WriteAllText(dir.File("token"), "t\n");
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        var clock = Stopwatch.StartNew();
        var (code, output, err) = TrainCliTests.Run("list", "--host", $"http://127.0.0.1:{port}", "--token-file", dir.File("token"));
        CliErrors.AssertOneLine(code, output, err, $"cannot reach the control API at http://127.0.0.1:{port}: connection refused");
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), clock.Elapsed.ToString());
    }

    [Fact]
    public async Task TheHostAndTokenComeFromTheEnvironmentOrTheHostsConfiguration()
    {
        await using var host = await ControlApiHost.StartAsync();
        host.Control.Add("alpha");
        // The configuration a host was started with: its api port, and its token file relative to the file.
        using var dir = new TempDir();
        File.Copy(host.TokenFile, dir.File("host.token"));
        File.WriteAllText(dir.File("host.conf"), $"deepcluster.host.api {{\n  port = {new Uri(host.Url).Port}\n  token-file = \"host.token\"\n}}\n");
        var r = TrainCliTests.Run("status", "alpha", "--config", dir.File("host.conf"));
        AssertOk(r);
        Assert.Contains("state      running", r.Out);

        Environment.SetEnvironmentVariable("DEEPCLUSTER_HOST", host.Url);
        Environment.SetEnvironmentVariable("DEEPCLUSTER_TOKEN_FILE", host.TokenFile);
        try { AssertOk(TrainCliTests.Run("status", "alpha")); }
        finally
        {
            Environment.SetEnvironmentVariable("DEEPCLUSTER_HOST", null);
            Environment.SetEnvironmentVariable("DEEPCLUSTER_TOKEN_FILE", null);
        }
        Assert.Equal(["status alpha", "status alpha"], host.Control.Calls);
    }

    [Fact]
    public async Task HttpsWithASelfSignedCertificateWorksWithCacert()
    {
        using var dir = new TempDir();
        ControlApiHost.MakeCertificate(dir.File("host.p12"), dir.File("host.pem"), null);
        await using var host = await ControlApiHost.StartAsync(dir.File("host.p12"));
        host.Control.Add("alpha");
        AssertOk(Run(host, "status", "alpha", "--cacert", dir.File("host.pem")));
        AssertOk(Run(host, "stop", "alpha", "--cacert", dir.File("host.p12")));
        var (code, output, err) = Run(host, "status", "alpha");
        CliErrors.AssertOneLine(code, output, err, "the host's certificate is not trusted (self-signed?); give it, or the CA that signed it, with --cacert FILE");
        (code, output, err) = Run(host, "status", "alpha", "--cacert", dir.File("nothere.pem"));
        CliErrors.AssertOneLine(code, output, err, $"--cacert {dir.File("nothere.pem")}: file not found");
        Assert.Equal(["status alpha", "stop alpha"], host.Control.Calls);
    }

    [Fact]
    public async Task LogsFollowPrintsLinesWrittenLaterAndEndsWithTheExperimentWithoutTorch()
    {
        await using var host = await ControlApiHost.StartAsync();
        host.Control.Add("alpha");
        host.Control.AppendLog("alpha", "epoch 0 done\n");
        using var cli = new CliProcess("logs", "alpha", "--follow", "--host", host.Url, "--token-file", host.TokenFile);
        Assert.True(cli.WaitForLine("epoch 0 done", TimeSpan.FromSeconds(60)), cli.Output);

        // A control command loads neither libtorch nor TorchSharp, and starts no actor system.
        var maps = File.ReadAllText($"/proc/{cli.Id}/maps");
        Assert.DoesNotContain("libtorch", maps);
        Assert.DoesNotContain("TorchSharp", maps);
        Assert.DoesNotContain("Akka.Remote", maps);

        host.Control.AppendLog("alpha", "epoch 1 ");
        host.Control.AppendLog("alpha", "done\n");
        Assert.True(cli.WaitForLine("epoch 1 done", TimeSpan.FromSeconds(30)), cli.Output);
        Assert.False(cli.Exited);
        host.Control.AppendLog("alpha", "epoch 2 done\n");
        host.Control.SetState("alpha", RunStates.Finished);
        Assert.Equal(0, cli.WaitForExit(TimeSpan.FromSeconds(30)));
        Assert.Equal("epoch 0 done\nepoch 1 done\nepoch 2 done\n", cli.Output);
    }

    [Fact]
    public async Task LogsFollowEndsOnCtrlC()
    {
        await using var host = await ControlApiHost.StartAsync();
        host.Control.Add("alpha");
        host.Control.AppendLog("alpha", "epoch 0 done\n");
        using var cli = new CliProcess("logs", "alpha", "-f", "--host", host.Url, "--token-file", host.TokenFile);
        Assert.True(cli.WaitForLine("epoch 0 done", TimeSpan.FromSeconds(60)), cli.Output);
        cli.Signal("INT");
        Assert.Equal(130, cli.WaitForExit(TimeSpan.FromSeconds(15)));
        Assert.Equal("epoch 0 done\n", cli.Output);
    }
}
