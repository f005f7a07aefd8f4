using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using DeepCluster.Core.Experiment;
using DeepCluster.Core.Tests.Support;
using Npgsql;

namespace DeepCluster.Actors.Tests;

/// <summary>
/// The journal on PostgreSQL, for real (DEEPCLUSTER_TEST_PG: see <see cref="TestDatabase"/>): a run killed with
/// SIGKILL mid-training resumes from the database and ends with the metrics of the same run on SQLite; experiments
/// sharing a database never see each other's events, also after a folder is moved; a server that cannot be used is
/// one line naming it, exit 2, within seconds.
/// </summary>
[Collection("console")]
public class PostgresJournalTests
{
    static readonly TimeSpan Timeout = TimeSpan.FromMinutes(3);

    static string[] Args(string exp, string journal, int epochs = 2, int limit = 512, int seed = 7) =>
    [
        "train", CliProcess.FashionMnist, "--arch", "alexnet_small", "--sobel", "--k", "10", "--epochs", epochs.ToString(),
        "--batch", "64", "--limit", limit.ToString(), "--checkpoints", "2", "--workers", "2", "--exp", exp, "--device", "cpu",
        "--seed", seed.ToString(), "--pca", "32", "--journal", journal,
    ];

    static (int Code, string Output) RunToEnd(params string[] args)
    {
        using var run = new CliProcess(args);
        var code = run.WaitForExit(Timeout);
        return (code, run.Output);
    }

    [Fact]
    public void KilledMidTrainingAndResumedEndsWithTheMetricsOfTheSameRunOnSqlite()
    {
        using var db = new TestDatabase();
        using var dir = new TempDir();
        var reference = dir.File("sqlite");
        var (refCode, refOutput) = RunToEnd(Args(reference, "sqlite", epochs: 3));
        Assert.True(refCode == 0, refOutput);

        // 8 iterations per epoch, a checkpoint every 2: checkpoint_5 is epoch 1's iteration 2; killed a little later, with
        // the rest of epoch 1 and all of epoch 2 still to run (a fast machine could finish a last epoch before the kill).
        var exp = dir.File("postgres");
        var folder = new ExperimentFolder(exp);
        using (var run = new CliProcess(Args(exp, db.ConnectionString, epochs: 3)))
        {
            Assert.True(run.WaitForFile(folder.IterationCheckpoint(5), Timeout), $"never reached checkpoint_5:\n{run.Output}");
            run.KillHard();
        }
        var (code, output) = RunToEnd(Args(exp, db.ConnectionString, epochs: 3));
        Assert.True(code == 0, output);
        // Normally inside epoch 1's training; a kill that came late may find epoch 2 begun.
        Assert.Matches($@"resuming {System.Text.RegularExpressions.Regex.Escape(exp)} at epoch (1, phase training|2, phase)", output);
        Assert.Contains("on PostgreSQL", output);

        Assert.False(File.Exists(folder.JournalPath), "an SQLite journal was written next to the PostgreSQL one");
        var id = folder.ReadId();
        Assert.NotNull(id);
        Assert.Equal(new[] { $"experiment-{id}" }, db.PersistenceIds());

        var expected = new ExperimentFolder(reference).ReadMetrics();
        var actual = folder.ReadMetrics();
        Assert.Equal(new[] { 0, 1, 2 }, expected.Select(m => m.Epoch));
        Assert.Equal(new[] { 0, 1, 2 }, actual.Select(m => m.Epoch));
        SameMetrics.Assert(expected, actual);
    }

    [Fact]
    public void TwoExperimentsInOneDatabaseNeverSeeEachOthersEventsEvenAfterAMove()
    {
        using var db = new TestDatabase();
        using var dir = new TempDir();
        var first = dir.File("first");
        var (code, output) = RunToEnd(Args(first, db.ConnectionString, epochs: 1, limit: 256, seed: 5));
        Assert.True(code == 0, output);

        // Another experiment (another seed) in the same database starts from nothing: with one fixed persistence id
        // it would replay the first one's events and be refused as "an experiment with other settings".
        var second = dir.File("second");
        (code, output) = RunToEnd(Args(second, db.ConnectionString, epochs: 1, limit: 256, seed: 6));
        Assert.True(code == 0, output);
        Assert.DoesNotContain("resuming", output);
        Assert.Equal(new[] { 0 }, new ExperimentFolder(second).ReadMetrics().Select(m => m.Epoch));

        var (firstId, secondId) = (new ExperimentFolder(first).ReadId(), new ExperimentFolder(second).ReadId());
        Assert.NotEqual(firstId, secondId);
        Assert.Equal(new[] { $"experiment-{firstId}", $"experiment-{secondId}" }.Order(), db.PersistenceIds());

        // The id moves with the folder: the moved experiment recovers its own events (its seed, its finished epoch).
        var moved = dir.File("moved");
        Directory.Move(first, moved);
        (code, output) = RunToEnd("resume", moved, "--journal", db.ConnectionString);
        Assert.True(code == 0, output);
        Assert.Contains($"resuming {moved} at epoch 1", output);
        Assert.Contains("done: 1 epoch(s)", output);
        Assert.Equal(firstId, new ExperimentFolder(moved).ReadId());
        Assert.Equal(2, db.PersistenceIds().Count);
    }

    [Fact]
    public void AnUnreachableServerIsOneLineNamingItAndExit2WithinSeconds()
    {
        // A port nothing listens on.
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        using var dir = new TempDir();
        var exp = dir.File("exp");
        var clock = Stopwatch.StartNew();
        var (code, output, err) = TrainCliTests.Run(Args(exp, $"postgres://deepcluster:secret@127.0.0.1:{port}/nowhere"));
        CliErrors.AssertOneLine(code, output, err, $"PostgreSQL journal deepcluster@127.0.0.1:{port}/nowhere: cannot connect");
        Assert.DoesNotContain("secret", err);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"took {clock.Elapsed}");
        Assert.False(Directory.Exists(exp));
    }

    [Fact]
    public void AWrongPasswordIsOneLineNamingTheServerAndExit2()
    {
        var b = new NpgsqlConnectionStringBuilder(TestDatabase.Server) { Password = "not-the-password" };
        using var dir = new TempDir();
        var exp = dir.File("exp");
        var (code, output, err) = TrainCliTests.Run(Args(exp, b.ConnectionString));
        CliErrors.AssertOneLine(code, output, err, $"PostgreSQL journal {b.Username}@{b.Host}:{b.Port}/{b.Database}: ");
        Assert.Contains("password authentication failed", err);
        Assert.DoesNotContain("not-the-password", err);
        Assert.False(Directory.Exists(exp));
    }

    [Fact]
    public void ResultsWhoseEventsAreNotInTheDatabaseAreRefused()
    {
        using var db = new TestDatabase();
        using var dir = new TempDir();
        var exp = dir.File("exp");
        var folder = new ExperimentFolder(exp);
        folder.CreateLayout();
        folder.WriteMetrics([new EpochMetrics { Epoch = 0 }]);
        File.WriteAllText(folder.IdPath, "0123456789abcdef\n");
        var (code, output, err) = TrainCliTests.Run(Args(exp, db.ConnectionString));
        CliErrors.AssertOneLine(code, output, err, "holds no events of experiment 0123456789abcdef but the folder holds results (metrics.jsonl)");
        Assert.Contains("--restart", err);
    }

}
