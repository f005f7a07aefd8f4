using DeepCluster.Core.IO;
using DeepCluster.Core.Clustering;
using DeepCluster.Core.Metrics;
using DeepCluster.Core.Native;
using DeepCluster.Core.Tests.Support;
using static TorchSharp.torch;

namespace DeepCluster.Core.Tests.Clustering;

public class PicTests
{
    public PicTests() => TorchRuntime.EnsureLoaded();

    [Fact]
    public void AgreesWithPublishedPicAndKeepsBlobsApart()
    {
        using var scope = NewDisposeScope();
        using var dir = new TempDir();
        var (x, truth) = Blobs.Make(1200, 32, 6, seed: 8, spread: 10, noise: 0.5);
        using var pre = FeaturePreprocessing.Preprocess(x, 16);
        NpyFile.WriteTensor(dir.File("xb.npy"), pre.Features);
        var r = PowerIterationClustering.Fit(pre.Features, new PicOptions { RowsPerChunk = 300 });
        Assert.Equal(Enumerable.Range(0, 1200), r.ImagesLists.SelectMany(l => l).Order());
        Assert.All(r.ImagesLists, l => Assert.True(l.Count > 1));              // singletons were distributed
        // PIC over-segments (many local maxima), but no cluster mixes two blobs.
        int pure = r.ImagesLists.Sum(l => l.GroupBy(i => truth[i]).Max(g => g.Count()));
        Assert.True(pure >= 0.99 * 1200, $"purity {pure / 1200.0}");

        // The published run_pic / find_maxima_cluster / singleton handling, on faiss's kNN graph.
        var text = PythonPeer.Run("""
            import sys, numpy as np, faiss
            from scipy.sparse import csr_matrix
            xb = np.load(sys.argv[1]); nnn, sigma, alpha = 5, 0.2, 0.001
            index = faiss.IndexFlatL2(xb.shape[1]); index.add(xb); D, I = index.search(xb, nnn + 1)
            V, k = I.shape; k -= 1
            indices = np.reshape(np.delete(I, 0, 1), (1, -1)); indptr = np.multiply(k, np.arange(V + 1))
            data = np.reshape(np.delete(np.vectorize(lambda d: np.exp(-d / sigma**2))(D), 0, 1), (1, -1))
            a = csr_matrix((data[0], indices[0], indptr), shape=(V, V)); W = a + a.transpose()
            v = (np.ones(V) / V).astype('float32')
            for i in range(200):
                vnext = np.zeros(V, dtype='float32') + W.transpose().dot(v)
                vnext = alpha * vnext + (1 - alpha) / V; vnext /= vnext.sum(); v = vnext
            pointers = list(range(V))
            for i in range(V):
                best = 0
                for l in range(W.indptr[i], W.indptr[i + 1]):
                    j = W.indices[l]; vi = W.data[l] * (v[j] - v[i])
                    if vi > best: best = vi; pointers[i] = j
            ids = {}; clust = []
            for i in range(V):
                if pointers[i] == i: ids[i] = len(ids)
            for i in range(V):
                c = i
                while pointers[c] != c: c = pointers[c]
                clust.append(ids[c])
            lists = {h: [] for h in set(clust)}
            for d, c in enumerate(clust): lists[c].append(d)
            moves = {}
            for c in lists:
                if len(lists[c]) == 1:
                    s = lists[c][0]
                    for n in I[s, 1:]:
                        if len(lists[clust[n]]) != 1: moves[s] = n; break
            for s in moves:
                del lists[clust[s]]; clust[s] = clust[moves[s]]; lists[clust[s]].append(s)
            print(" ".join(str(clust[i]) for i in range(V)))
            """, dir.File("xb.npy"));
        var published = text.Trim().Split(' ').Select(long.Parse).ToArray();
        var nmi = NormalizedMutualInfo.Score(published, r.Assignments);
        Assert.True(nmi > 0.99, $"NMI to the published PIC {nmi} ({r.ImagesLists.Count} vs {published.Distinct().Count()} clusters)");
    }

    [Fact]
    public void KnnMatchesFaissIndexFlatL2()
    {
        using var scope = NewDisposeScope();
        using var dir = new TempDir();
        var (x, _) = Blobs.Make(500, 8, 5, seed: 2, spread: 2, noise: 1);
        NpyFile.WriteTensor(dir.File("x.npy"), x);
        var (d, i) = ChunkedSearch.Knn(x, x, 6, rowsPerChunk: 77);
        var text = PythonPeer.Run("""
            import sys, numpy as np, faiss
            x = np.load(sys.argv[1]); index = faiss.IndexFlatL2(x.shape[1]); index.add(x)
            D, I = index.search(x, 6)
            np.save(sys.argv[2], D.astype(np.float32))
            print(" ".join(str(v) for v in I[:, 1:].ravel()))
            """, dir.File("x.npy"), dir.File("d.npy"));
        var faissI = text.Trim().Split(' ').Select(long.Parse).ToArray();
        var ours = i.narrow(1, 1, 5).reshape(-1).data<long>().ToArray();
        Assert.True(ours.Zip(faissI, (a, b) => a == b).Count(same => same) > 0.99 * ours.Length);   // ties may differ
        var faissD = NpyFile.ReadTensor(dir.File("d.npy"));
        Assert.True((faissD - d).abs().max().item<float>() < 1e-3);
    }

    [Fact]
    public void SymmetricGraphSumsBothDirections()
    {
        // 3 nodes, 1 neighbour each: 0->1 (w .5), 1->0 (w .25), 2->1 (w 1)
        var g = SymmetricGraph.FromNeighbors(3, new long[] { 0, 1, 1, 0, 2, 1 }, 2, new[] { 0.5, 0.25, 1.0 });
        Assert.Equal(new[] { 0, 1, 3, 4 }, g.RowStart);
        Assert.Equal(new[] { 1, 0, 2, 1 }, g.Columns);
        Assert.Equal(new[] { 0.75, 0.75, 1.0, 1.0 }, g.Values);
    }
}
