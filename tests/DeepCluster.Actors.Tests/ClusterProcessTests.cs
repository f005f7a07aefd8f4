using DeepCluster.Core.Experiment;
using DeepCluster.Core.Tests.Support;

namespace DeepCluster.Actors.Tests;

/// <summary>
/// The cluster as users run it: `deepcluster host` processes on 127.0.0.1, driven by the CLI's control commands over
/// the HTTP API. Results are compared with `deepcluster train` on the same configuration and seed.
/// </summary>
public sealed class ClusterProcessTests : IDisposable
{
    static readonly TimeSpan RunTimeout = TimeSpan.FromMinutes(4);
    readonly TempDir dir = new();

    /// <summary>alexnet_small on 512 Fashion-MNIST images, checkpoints every 2 iterations, as `train` flags.</summary>
    static string[] Flags(int epochs) =>
    [
        CliProcess.FashionMnist, "--arch", "alexnet_small", "--sobel", "--k", "10", "--epochs", epochs.ToString(), "--batch", "64",
        "--limit", "512", "--checkpoints", "2", "--workers", "2", "--device", "cpu", "--seed", "11", "--pca", "16", "--niter", "10",
    ];

    IReadOnlyList<EpochMetrics> TrainReference(int epochs)
    {
        var exp = dir.File("reference");
        var (code, output) = FinishedExperiment.Run(["train", .. Flags(epochs), "--exp", exp]);
        Assert.True(code == 0, output);
        return new ExperimentFolder(exp).ReadMetrics();
    }

    string Submit(HostProcess host, int epochs)
    {
        var (code, output) = host.Cli(["submit", .. Flags(epochs)]);
        Assert.True(code == 0, output);
        Assert.True(ExperimentFolder.IsId(output), output);
        return output;
    }

    [Fact]
    public void SubmitPauseHostRestartResumeRunsToTheLossesOfTrain()
    {
        var config = HostProcess.WriteConfig(dir);
        var experiments = dir.File("experiments");
        string id;
        using (var host = new HostProcess(config, experiments))
        {
            // Three epochs: the status polls and the pause are CLI processes (~0.5 s each), and the two epochs after the
            // first training phase must outlast them, also on a fast machine.
            id = Submit(host, epochs: 3);
            host.WaitFor(id, "phase", p => p.StartsWith("training", StringComparison.Ordinal), RunTimeout);
            var (code, paused) = host.Cli("pause", id);
            Assert.True(code == 0, paused);
            Assert.Contains("pausing", paused);
            host.WaitFor(id, "state", s => s == "paused", RunTimeout);
            host.Signal("TERM");
            Assert.Equal(0, host.WaitForExit(TimeSpan.FromMinutes(1)));
            Assert.Contains("host stopping", host.Output);
        }
        using (var host = new HostProcess(config, experiments))
        {
            Assert.Equal("paused", host.Status(id, "state"));
            var (code, resumed) = host.Cli("resume", id);
            Assert.True(code == 0, resumed);
            var (logsCode, logs) = host.Cli("logs", id, "--follow");
            Assert.True(logsCode == 0, logs);
            Assert.Contains("paused at epoch ", logs);
            Assert.Contains("done: 3 epoch(s)", logs);
            Assert.Equal("finished", host.Status(id, "state"));
            var (stopCode, stop) = host.Cli("stop", id);
            Assert.Contains("nothing to stop", stop);
            var (unknownCode, unknown) = host.Cli("status", "0123456789abcdef");
            Assert.NotEqual(0, unknownCode);
            Assert.Contains("0123456789abcdef", unknown);
        }
        var folder = new ExperimentFolder(Path.Combine(experiments, id));
        SameMetrics.Assert(TrainReference(3), folder.ReadMetrics());
    }

    /// <summary>
    /// Three nodes (every role) sharing a PostgreSQL journal: the node running the experiment is killed (SIGKILL); the
    /// Split Brain Resolver downs it, sharding starts the experiment on another node, which recovers it from PostgreSQL
    /// and finishes it with the losses of an uninterrupted `train`.
    /// </summary>
    [Fact]
    public void TheNodeRunningAnExperimentIsKilledAndAnotherFinishesItFromPostgres()
    {
        using var db = new TestDatabase();
        var config = HostProcess.WriteConfig(dir);
        var experiments = dir.File("experiments");
        var seedPort = HostProcess.FreePort();
        var seed = $"akka.tcp://deepcluster@127.0.0.1:{seedPort}";
        string[] Extra() => ["--seed-nodes", seed, "--journal", db.ConnectionString];
        var nodes = new List<HostProcess>();
        try
        {
            nodes.Add(new HostProcess(config, experiments, seedPort, Extra()));
            nodes.Add(new HostProcess(config, experiments, null, Extra()));
            nodes.Add(new HostProcess(config, experiments, null, Extra()));
            var id = Submit(nodes[0], epochs: 3);
            var where = nodes[0].WaitFor(id, "nodes", n => n.Contains("training on"), RunTimeout);
            nodes[0].WaitFor(id, "phase", p => p.StartsWith("training", StringComparison.Ordinal), RunTimeout);
            var victim = nodes.Single(n => where.Contains("training on " + n.Address));
            victim.KillHard();
            var survivor = nodes.First(n => n != victim);
            var moved = survivor.WaitFor(id, "nodes", n => n.Contains("training on") && !n.Contains(victim.Address), RunTimeout);
            Assert.DoesNotContain(victim.Address, moved);
            survivor.WaitFor(id, "state", s => s == "finished", RunTimeout);
            var log = File.ReadAllText(new ExperimentFolder(Path.Combine(experiments, id)).LogPath);
            Assert.Contains("continuing on ", log);
        }
        finally
        {
            foreach (var n in nodes) n.Dispose();
        }
        var ids = Directory.GetDirectories(experiments).Where(d => File.Exists(Path.Combine(d, "experiment.id"))).ToList();
        // k-means ran on the three nodes' workers: the same sums, added in other groups.
        SameMetrics.Assert(TrainReference(3), new ExperimentFolder(Assert.Single(ids)).ReadMetrics(), clusteringTolerance: 1e-6);
    }

    /// <summary>
    /// A coordinator and two worker nodes: the feature pass is spread over the workers' ranges; one worker is SIGKILLed
    /// while it computes a range, which goes to the other once the cluster has downed the dead node. The epoch ends
    /// with every row computed once: the same features, so the same losses as `train`. The training batches are made by
    /// the surviving worker's loader worker (files on the shared folder), the same batches as `train`'s own loader.
    /// </summary>
    [Fact]
    public void AWorkerKilledDuringTheFeaturePassLeavesEveryRowComputedOnce()
    {
        using var db = new TestDatabase();
        var config = HostProcess.WriteConfig(dir, "deepcluster.features.range-images = 32\n");
        var experiments = dir.File("experiments");
        var seedPort = HostProcess.FreePort();
        string[] Extra(string roles) =>
            ["--seed-nodes", $"akka.tcp://deepcluster@127.0.0.1:{seedPort}", "--journal", db.ConnectionString, "--roles", roles];
        string[] flags = [CliProcess.FashionMnist, "--arch", "alexnet", "--k", "10", "--epochs", "1", "--batch", "32", "--limit", "960",
                          "--workers", "1", "--device", "cpu", "--seed", "3", "--pca", "16", "--niter", "10"];
        using var coordinator = new HostProcess(config, experiments, seedPort, Extra("coordinator,api"));
        using var worker1 = new HostProcess(config, experiments, null, Extra("worker"));
        using var worker2 = new HostProcess(config, experiments, null, Extra("worker"));
        var (code, id) = coordinator.Cli(["submit", .. flags]);
        Assert.True(code == 0, id);
        // Killed in the first half of the pass, while both workers have ranges of it (30 ranges of 32 images).
        var end = DateTime.UtcNow + RunTimeout;
        while (!(coordinator.Status(id, "nodes").Contains(worker1.Address) && FirstHalf(coordinator.Status(id, "phase"))))
        {
            Assert.True(DateTime.UtcNow < end, "the feature pass never ran on worker 1");
            Thread.Sleep(100);
        }
        worker1.KillHard();
        Assert.Equal("finished", coordinator.WaitFor(id, "state", s => s == "finished", RunTimeout));
        var log = File.ReadAllText(new ExperimentFolder(Path.Combine(experiments, id)).LogPath);
        Assert.Contains("a feature worker stopped during images", log);
        // The coordinator trains; the surviving worker node's loader worker made its batches (deepcluster.training.remote-loaders = auto).
        Assert.Contains($"epoch 0: training batches are made by loader workers on {worker2.Address}", log);

        var exp = dir.File("reference");
        var (trainCode, output) = FinishedExperiment.Run(["train", .. flags, "--exp", exp]);
        Assert.True(trainCode == 0, output);
        SameMetrics.Assert(new ExperimentFolder(exp).ReadMetrics(), new ExperimentFolder(Path.Combine(experiments, id)).ReadMetrics());
    }

    /// <summary>Whether `status`'s phase line ("features, 96/960 img (…)") says the feature pass is in its first half.</summary>
    static bool FirstHalf(string phase)
    {
        var m = System.Text.RegularExpressions.Regex.Match(phase, @"^features, (\d+)/(\d+) ");
        return m.Success && long.Parse(m.Groups[1].Value) * 2 <= long.Parse(m.Groups[2].Value);
    }

    /// <summary>
    /// Two hosts with Akka.Remote TLS (mutual, a certificate the test makes) and the API on HTTPS: the second joins the
    /// first over TLS, an experiment submitted to the second (the shard coordinator is on the first) runs to the end.
    /// </summary>
    [Fact]
    public void TwoHostsOverTlsRunAnExperimentAndTheApiIsHttps()
    {
        using var db = new TestDatabase();
        var p12 = dir.File("cluster.p12");
        TestCertificate.Write(p12, "secret");
        var pem = dir.File("cluster.pem");   // what a client trusts: the certificate alone
        using (var certificate = System.Security.Cryptography.X509Certificates.X509CertificateLoader.LoadPkcs12FromFile(p12, "secret"))
            File.WriteAllText(pem, certificate.ExportCertificatePem());
        var config = dir.File("tls.conf");
        File.WriteAllText(config, """
            deepcluster.host.tls { certificate = "cluster.p12", password = "secret" }
            deepcluster.host.api { certificate = "cluster.p12", certificate-password = "secret" }
            """);
        var experiments = dir.File("experiments");
        var seedPort = HostProcess.FreePort();
        string[] extra = ["--seed-nodes", $"akka.ssl.tcp://deepcluster@127.0.0.1:{seedPort}", "--journal", db.ConnectionString];
        using var first = new HostProcess(config, experiments, seedPort, extra);
        Assert.Contains($"host akka.ssl.tcp://deepcluster@127.0.0.1:{seedPort} up", first.Output);
        using var second = new HostProcess(config, experiments, null, extra) { Https = true, CaCert = pem };
        var id = Submit(second, epochs: 1);
        Assert.Equal("finished", second.WaitFor(id, "state", s => s == "finished", RunTimeout));
        var (plainCode, plain) = second.CliPlainHttp("list");
        Assert.NotEqual(0, plainCode);
    }

    public void Dispose() => dir.Dispose();
}

/// <summary>deploy/local-cluster.sh as the README tells a new user to try the cluster: up, submit, down.</summary>
public sealed class LocalClusterScriptTests : IDisposable
{
    readonly TempDir dir = new();

    (int Code, string Output) Script(params string[] args)
    {
        var psi = new System.Diagnostics.ProcessStartInfo(Path.Combine(CliProcess.RepositoryRoot, "deploy", "local-cluster.sh"))
        {
            RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
        };
        foreach (var a in args) psi.ArgumentList.Add(a);
        psi.Environment["DEEPCLUSTER_BIN"] = CliProcess.Executable;
        psi.Environment["DEEPCLUSTER_CLUSTER_DIR"] = dir.File("cluster");
        using var p = System.Diagnostics.Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(TimeSpan.FromMinutes(3))) { p.Kill(true); throw new TimeoutException("local-cluster.sh " + string.Join(' ', args)); }
        return (p.ExitCode, stdout.Result + stderr.Result);
    }

    [Fact]
    public void UpSubmitDown()
    {
        var (upCode, up) = Script("up", "1");
        try
        {
            Assert.True(upCode == 0, up);
            var env = File.ReadAllLines(Path.Combine(dir.File("cluster"), "cluster.env"))
                .Select(l => l.Replace("export ", "").Split('=', 2)).ToDictionary(kv => kv[0], kv => kv[1].Trim('\''));
            string[] api = ["--host", env["DEEPCLUSTER_HOST"], "--token-file", env["DEEPCLUSTER_TOKEN_FILE"]];
            using (var submit = new CliProcess(["submit", CliProcess.FashionMnist, "--arch", "alexnet_small", "--k", "10", "--epochs", "1",
                                                "--batch", "64", "--limit", "256", "--device", "cpu", "--pca", "16", .. api]))
            {
                Assert.Equal(0, submit.WaitForExit(TimeSpan.FromMinutes(1)));
                var id = submit.Output.Trim();
                using var logs = new CliProcess(["logs", id, "--follow", .. api]);
                Assert.Equal(0, logs.WaitForExit(TimeSpan.FromMinutes(3)));
                Assert.Contains("done: 1 epoch(s)", logs.Output);
            }
        }
        finally
        {
            var (downCode, down) = Script("down");
            Assert.True(downCode == 0, down);
        }
        var (_, status) = Script("status");
        Assert.Contains("no hosts", status);
    }

    public void Dispose() => dir.Dispose();
}
