using Akka.Actor;
using Akka.TestKit.Xunit2;
using DeepCluster.Actors.Clustering;
using DeepCluster.Actors.Hosting;
using DeepCluster.Actors.Progress;
using DeepCluster.Core.Clustering;
using DeepCluster.Core.IO;
using DeepCluster.Core.Tests.Support;
using static TorchSharp.torch;

namespace DeepCluster.Actors.Tests;

/// <summary>
/// k-means over workers (<see cref="KMeansCoordinatorActor"/>, <see cref="KMeansWorkerActor"/>): PCA from the ranges'
/// statistics, centroids out, partial sums and counts back, reduced centrally; the same clustering as the single-node
/// <see cref="ClusteringRunner"/> for the same seed (exactly with one worker, within float tolerance with three).
/// </summary>
public class KMeansCoordinatorTests() : TestKit(Akka.Configuration.ConfigurationFactory
    .ParseString("akka.actor.serialize-messages = on")     // every message serialised and read back, as between nodes
    .WithFallback(HostConfig.Load(null).Hocon))
{
    const int Rows = 900, Dim = 48, K = 6, Pca = 16, Niter = 12;
    const long Seed = 5;
    static readonly TimeSpan Limit = TimeSpan.FromSeconds(60);

    /// <summary>Six Gaussian blobs in 48 dimensions, written as the feature pass writes features.</summary>
    static void WriteBlobs(string path)
    {
        using var scope = NewDisposeScope();
        var g = new Generator(11);
        var centers = randn(K, Dim, generator: g) * 3;
        var labels = randint(0, K, [Rows], generator: g);
        var x = (centers.index_select(0, labels) + randn(Rows, Dim, generator: g)).contiguous();
        NpyFile.WriteFloat32Matrix(path, x.data<float>().ToArray(), Rows, Dim);
    }

    (IActorRef Coordinator, List<IActorRef> Workers) Cluster(int workers)
    {
        var coordinator = Sys.ActorOf(KMeansCoordinatorActor.Props());
        var list = Enumerable.Range(0, workers).Select(_ => Sys.ActorOf(KMeansWorkerActor.Props(coordinator))).ToList();
        // Started, so announced (a worker announces itself in PreStart, before it answers anything).
        foreach (var w in list) w.Ask<ActorIdentity>(new Identify(null), Limit).Wait();
        return (coordinator, list);
    }

    /// <summary>Runs the job and checks it was spread over <paramref name="workers"/> workers.</summary>
    FeaturesClustered Run(IActorRef coordinator, ClusterFeatures job, int workers)
    {
        var probe = CreateTestProbe();
        coordinator.Tell(job, probe);   // the probe asks, so it gets the progress too
        probe.FishForMessage<PhaseProgress>(p => p.Detail?.Contains($"over {workers} worker(s)") == true, Limit);
        var result = probe.FishForMessage<FeaturesClustered>(_ => true, Limit);
        return result;
    }

    ClusterFeatures Job(TempDir dir, string name, int niter = Niter) =>
        new(0, dir.File("features.npy"), "Kmeans", K, Pca, niter, Seed, "cpu", dir.File(name));

    [Fact]
    public void WorkersClusterAsOneNodeDoes()
    {
        using var dir = new TempDir();
        WriteBlobs(dir.File("features.npy"));
        var single = ClusteringRunner.Run(dir.File("features.npy"), "Kmeans", K, Pca, Niter, Seed, CPU);

        var (one, _) = Cluster(1);
        var r1 = Run(one, Job(dir, "one.npy"), 1);
        Assert.Equal(single.Objectives, r1.Objectives);                     // one range: the single-node computation
        Assert.Equal(single.Assignments, NpyFile.ReadInt64(r1.AssignmentsPath));
        Assert.Equal(single.NonEmpty, r1.NonEmpty);

        var (three, _) = Cluster(3);
        var r3 = Run(three, Job(dir, "three.npy"), 3);
        Assert.Equal(Niter, r3.Objectives.Length);
        for (var i = 0; i < Niter; i++)
            Assert.True(Math.Abs(r3.Objectives[i] - single.Objectives[i]) <= 1e-4 * Math.Abs(single.Objectives[i]),
                        $"iteration {i}: objective {r3.Objectives[i]}, single node {single.Objectives[i]}");
        Assert.Equal(single.Assignments, NpyFile.ReadInt64(r3.AssignmentsPath));
        Assert.Equal(single.Loss, r3.Loss, 1e-4 * single.Loss);
        Assert.Empty(Directory.EnumerateDirectories(dir.Path, "kmeans-*"));   // the job's files are removed
    }

    [Fact]
    public void AWorkerLostDuringTheJobStartsTheClusteringAgainOnTheWorkersLeft()
    {
        using var dir = new TempDir();
        WriteBlobs(dir.File("features.npy"));
        var single = ClusteringRunner.Run(dir.File("features.npy"), "Kmeans", K, Pca, 200, Seed, CPU);
        var (coordinator, workers) = Cluster(2);
        coordinator.Tell(Job(dir, "a.npy", niter: 200));
        FishForMessage<PhaseProgress>(p => p.Done == 1, Limit);          // the first iteration is reduced
        Sys.Stop(workers[1]);
        var said = FishForMessage<ExperimentLog>(_ => true, Limit);
        Assert.Contains("a k-means worker", said.Text);
        Assert.Contains("starts again on the 1 worker(s) left", said.Text);
        var result = FishForMessage<FeaturesClustered>(_ => true, Limit);
        Assert.Equal(single.Assignments, NpyFile.ReadInt64(result.AssignmentsPath));   // one worker: the single-node result
        Assert.Equal(single.Objectives, result.Objectives);
    }

    [Fact]
    public void WithoutWorkersOrForPicTheClusteringRunsInProcess()
    {
        using var dir = new TempDir();
        WriteBlobs(dir.File("features.npy"));
        var single = ClusteringRunner.Run(dir.File("features.npy"), "Kmeans", K, Pca, Niter, Seed, CPU);
        var coordinator = Sys.ActorOf(KMeansCoordinatorActor.Props());
        coordinator.Tell(Job(dir, "local.npy"));
        var r = FishForMessage<FeaturesClustered>(_ => true, Limit);
        Assert.Equal(single.Assignments, NpyFile.ReadInt64(r.AssignmentsPath));
        coordinator.Tell(Job(dir, "bad.npy") with { K = Rows + 1 });
        Assert.Contains($"k = {Rows + 1}", FishForMessage<ClusteringFailed>(_ => true, Limit).Error);
    }
}
