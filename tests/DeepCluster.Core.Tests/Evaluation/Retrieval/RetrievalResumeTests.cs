using DeepCluster.Core.Evaluation;
using DeepCluster.Core.Evaluation.Retrieval;
using DeepCluster.Core.Native;
using DeepCluster.Core.Tests.Support;
using static TorchSharp.torch;

namespace DeepCluster.Core.Tests.Evaluation.Retrieval;

/// <summary>
/// A retrieval evaluation stopped during the PCA pass, then during the database pass, continues from what its store
/// saved and ends with the APs of an uninterrupted run, without computing the saved work again.
/// </summary>
public class RetrievalResumeTests
{
    public RetrievalResumeTests() => TorchRuntime.EnsureLoaded();

    /// <summary>Cancels the run once <see cref="StopAt"/> images of pass <see cref="StopPass"/> are done; counts the images each pass computed.</summary>
    sealed class Stopper(int stopPass, int stopAt, CancellationTokenSource cts) : ILinearEvalObserver
    {
        public int StopPass => stopPass;
        public int StopAt => stopAt;
        public readonly Dictionary<int, int> First = new();
        public readonly List<string> Log = new();
        public void OnProgress(LinearEvalProgress p)
        {
            First.TryAdd(p.Epoch, p.Done);
            if (p.Epoch == stopPass && p.Done == stopAt) cts.Cancel();
        }
        public void OnLog(string line) => Log.Add(line);
    }

    static RetrievalResult Run(RetrievalDataset data, RetrievalDataset other, RetrievalSettings settings, string exp, Stopper observer, CancellationToken ct)
    {
        using var net = EvaluatedModel.Load(null, "alexnet_small", false, settings.Seed, CPU);
        return new RetrievalEvaluation(net, data, other, settings, new RetrievalDescriptorStore(Path.Combine(exp, "descriptors")), CPU)
            .Run(observer, observer.Log.Add, ct);
    }

    [Fact]
    public void AStoppedRunContinuesFromItsSavedWorkAndEndsWithTheUninterruptedNumbers()
    {
        using var dir = new TempDir();
        RetrievalFixture.Build(dir.File("oxford"), seed: 1);
        RetrievalFixture.Build(dir.File("paris"), seed: 2);
        using var data = RetrievalDataset.Open(dir.File("oxford"));
        using var other = RetrievalDataset.Open(dir.File("paris"), "--other");
        var settings = new RetrievalSettings(null, data.Root, other.Root, "alexnet_small", ImDim: 64, CheckpointEvery: 4);

        var whole = Run(data, other, settings, dir.File("whole"), new Stopper(-1, 0, new()), default);

        var exp = dir.File("part");
        using (var cts = new CancellationTokenSource())
            Assert.Throws<OperationCanceledException>(() => Run(data, other, settings, exp, new Stopper(0, 10, cts), cts.Token));
        using (var cts = new CancellationTokenSource())
        {
            var stopper = new Stopper(1, 9, cts);
            Assert.Throws<OperationCanceledException>(() => Run(data, other, settings, exp, stopper, cts.Token));
            Assert.Equal(8, stopper.First[0]);                         // the statistics of 8 images were saved (every 4), not 10
            Assert.Contains(stopper.Log, l => l.StartsWith("resuming: the PCA statistics of 8/15 paris images"));
        }
        var last = new Stopper(-1, 0, new());
        var resumed = Run(data, other, settings, exp, last, default);
        Assert.Equal(15, last.First[0]);                                // the PCA pass: nothing left
        Assert.Equal(8, last.First[1]);                                 // the database: 8 of 15 descriptors kept
        Assert.Contains(last.Log, l => l.StartsWith("resuming: the descriptors of 8/15 database oxford"));

        Assert.Equal(whole.Map, resumed.Map);
        Assert.Equal(whole.PcaEnergy, resumed.PcaEnergy);
        Assert.Equal(whole.Queries.Select(q => (q.Query, q.Ap, string.Join(' ', q.Ranking))),
                     resumed.Queries.Select(q => (q.Query, q.Ap, string.Join(' ', q.Ranking))));
        Assert.Equal(["database-000000-000004.npy", "database-000004-000008.npy", "database-000008-000012.npy",
                      "database-000012-000015.npy", "pca-000015.npy"],
                     Directory.GetFiles(Path.Combine(exp, "descriptors")).Select(Path.GetFileName).Order(StringComparer.Ordinal));
    }
}
