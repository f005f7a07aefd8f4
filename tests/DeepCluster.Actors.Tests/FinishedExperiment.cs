using DeepCluster.Core.Experiment;
using DeepCluster.Core.Tests.Support;

namespace DeepCluster.Actors.Tests;

/// <summary>
/// A small experiment run once to the end (1 epoch of alexnet_small on 512 Fashion-MNIST images), shared by the tests
/// of a damaged folder: each copies it (the journal records paths relative to the folder) and damages its copy.
/// k-means runs long enough (3 000 iterations) for a test to act while it runs.
/// </summary>
public sealed class FinishedExperiment : IDisposable
{
    public static readonly TimeSpan Timeout = TimeSpan.FromMinutes(4);
    readonly TempDir dir = new();

    public static string[] Args(string exp, params string[] extra) =>
    [
        "train", CliProcess.FashionMnist, "--arch", "alexnet_small", "--sobel", "--k", "10", "--epochs", "1", "--batch", "64",
        "--limit", "512", "--checkpoints", "3", "--workers", "2", "--exp", exp, "--device", "cpu", "--seed", "5", "--pca", "32",
        "--niter", "3000", .. extra,
    ];

    /// <summary>The finished folder; copy it, never change it.</summary>
    public string Folder { get; }
    public EpochMetrics Metrics { get; }

    public FinishedExperiment()
    {
        Folder = dir.File("finished");
        var (code, output) = Run(Args(Folder));
        if (code != 0) throw new InvalidOperationException("the reference run failed:\n" + output);
        Metrics = new ExperimentFolder(Folder).ReadMetrics().Single();
    }

    /// <summary>Runs the CLI to its end; its exit code and everything it printed.</summary>
    public static (int Code, string Output) Run(params string[] args)
    {
        using var run = new CliProcess(args);
        var code = run.WaitForExit(Timeout);
        return (code, run.Output);
    }

    /// <summary>A copy of the finished folder at <paramref name="destination"/> (files copied: no hard link shared).</summary>
    public string CopyTo(string destination)
    {
        foreach (var d in Directory.GetDirectories(Folder, "*", SearchOption.AllDirectories))
            Directory.CreateDirectory(Path.Combine(destination, Path.GetRelativePath(Folder, d)));
        foreach (var f in Directory.GetFiles(Folder, "*", SearchOption.AllDirectories))
            File.Copy(f, Path.Combine(destination, Path.GetRelativePath(Folder, f)));
        return destination;
    }

    /// <summary>Every file under <paramref name="folder"/> with its bytes, by relative path.</summary>
    public static Dictionary<string, byte[]> Snapshot(string folder) =>
        Directory.GetFiles(folder, "*", SearchOption.AllDirectories)
            .ToDictionary(f => Path.GetRelativePath(folder, f), File.ReadAllBytes);

    public static void AssertUnchanged(Dictionary<string, byte[]> before, string folder)
    {
        var after = Snapshot(folder);
        Assert.Equal(before.Keys.Order(), after.Keys.Order());
        foreach (var (name, bytes) in before) Assert.True(bytes.AsSpan().SequenceEqual(after[name]), $"{name} changed");
    }

    public void Dispose() => dir.Dispose();
}

[CollectionDefinition("finished experiment")]
public sealed class FinishedExperimentCollection : ICollectionFixture<FinishedExperiment>;
