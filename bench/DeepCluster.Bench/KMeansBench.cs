// `dcbench kmeans ROWS DIM K WORKERS [NITER]`: clustering of ROWS×DIM random features (PCA to min(DIM, 256)) by the
// single-node ClusteringRunner and by KMeansCoordinatorActor with WORKERS in-process k-means workers (compute
// dispatcher), same seed. Prints the seconds of each and the cost of distribution; the results must agree.
using System.Diagnostics;
using System.Globalization;
using Akka.Actor;
using DeepCluster.Actors.Clustering;
using DeepCluster.Actors.Hosting;
using DeepCluster.Core.Clustering;
using DeepCluster.Core.IO;
using static TorchSharp.torch;

static class KMeansBench
{
    const string Compute = "deepcluster.compute-dispatcher";

    public static async Task<int> RunAsync(string[] args)
    {
        int Arg(int i, int fallback) => args.Length > i ? int.Parse(args[i], CultureInfo.InvariantCulture) : fallback;
        int rows = Arg(0, 100_000), dim = Arg(1, 256), k = Arg(2, 1000), workers = Arg(3, 2), niter = Arg(4, 10);
        var root = Path.Combine(Path.GetTempPath(), $"dcbench-kmeans-{Environment.ProcessId}");
        Directory.CreateDirectory(root);
        try
        {
            var features = Path.Combine(root, "features.npy");
            using (var x = randn(rows, dim, generator: new Generator(3))) NpyFile.WriteTensor(features, x);
            int pca = Math.Min(dim, 256);
            const long seed = 7;

            var clock = Stopwatch.StartNew();
            var single = ClusteringRunner.Run(features, "Kmeans", k, pca, niter, seed, CPU);
            var singleSeconds = clock.Elapsed.TotalSeconds;

            using var system = ActorSystem.Create("dcbench", HostConfig.Load(null).Hocon);
            var coordinator = system.ActorOf(KMeansCoordinatorActor.Props().WithDispatcher(Compute), "clustering");
            for (var i = 0; i < workers; i++)
            {
                var w = system.ActorOf(KMeansWorkerActor.Props(coordinator).WithDispatcher(Compute), $"clustering-worker-{i}");
                await w.Ask<ActorIdentity>(new Identify(null), TimeSpan.FromSeconds(30));   // started: announced
            }
            clock.Restart();
            // The asker also gets the clustering's progress: read past it to the result.
            var inbox = Inbox.Create(system);
            coordinator.Tell(new ClusterFeatures(0, features, "Kmeans", k, pca, niter, seed, "cpu",
                Path.Combine(root, "assignments.npy")), inbox.Receiver);
            object reply;
            do reply = await inbox.ReceiveAsync(TimeSpan.FromMinutes(30));
            while (reply is DeepCluster.Actors.Progress.PhaseProgress or DeepCluster.Actors.Progress.ExperimentLog);
            var distributedSeconds = clock.Elapsed.TotalSeconds;
            if (reply is not FeaturesClustered c) { Console.Error.WriteLine(reply); return 1; }
            var same = NpyFile.ReadInt64(c.AssignmentsPath).Zip(single.Assignments).Count(p => p.Item1 == p.Item2);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"kmeans {rows}×{dim} → PCA {pca}, k {k}, {niter} iterations: single node {singleSeconds:F2} s " +
                $"({single.ClusteringSeconds / niter:F3} s/iteration incl. final assignment); {workers} worker(s) {distributedSeconds:F2} s " +
                $"(+{100 * (distributedSeconds / singleSeconds - 1):F0} %); loss {single.Loss:F2} vs {c.Loss:F2}; " +
                $"{same} of {rows} assignments equal"));
            await system.Terminate();
            return 0;
        }
        finally { try { Directory.Delete(root, true); } catch { /* best effort */ } }
    }
}
