using System.Diagnostics;
using static TorchSharp.torch;

namespace DeepCluster.Core.Clustering;

/// <summary>Settings of <see cref="PowerIterationClustering.Fit"/>; defaults are the published <c>PIC</c>'s.</summary>
public sealed record PicOptions
{
    /// <summary>Bandwidth σ of the Gaussian kernel exp(-d/σ²) on squared distances (published: 0.2).</summary>
    public double Sigma { get; init; } = 0.2;

    /// <summary>Neighbours per point in the graph, self excluded (published: 5).</summary>
    public int Neighbors { get; init; } = 5;

    /// <summary>Weight of the graph term in each power iteration (published: 0.001).</summary>
    public double Alpha { get; init; } = 0.001;

    /// <summary>Number of power iterations (published: 200).</summary>
    public int Iterations { get; init; } = 200;

    /// <summary>Give each singleton cluster's point to the cluster of its nearest non-singleton neighbour (published: true).</summary>
    public bool DistributeSingletons { get; init; } = true;

    /// <summary>Query rows per kNN matrix product; 0 chooses automatically.</summary>
    public long RowsPerChunk { get; init; }
}

/// <summary>The outcome of <see cref="PowerIterationClustering.Fit"/>.</summary>
/// <param name="ImagesLists">For each cluster the ascending indices of its points (published <c>images_lists</c>).</param>
/// <param name="Assignments">Cluster (position in <paramref name="ImagesLists"/>) of every point.</param>
/// <param name="GraphTime">Time to build the kNN graph.</param>
/// <param name="IterationTime">Time of the power iterations and the cluster extraction.</param>
public sealed record PicResult(List<List<int>> ImagesLists, long[] Assignments, TimeSpan GraphTime, TimeSpan IterationTime);

/// <summary>
/// Power Iteration Clustering on a graph of nearest neighbours, as the published <c>clustering.PIC</c>:
/// exact kNN (self + <see cref="PicOptions.Neighbors"/>), W = A + Aᵀ with A[i, j] = exp(-d_ij/σ²) for the
/// neighbours j of i (the first column, taken to be the point itself, is dropped), power iterations
/// v ← normalise₁(α Wᵀv + (1-α)/n) from the uniform vector, then every point follows its steepest
/// weighted ascent of v to a local maximum, whose point defines its cluster.
/// </summary>
public static class PowerIterationClustering
{
    /// <summary>Clusters the rows of <paramref name="x"/> (finite float32 [N, d], any device; usually preprocessed features).</summary>
    public static PicResult Fit(Tensor x, PicOptions? options = null)
    {
        var o = options ?? new PicOptions();
        FeatureChecks.RequireFiniteMatrix(x, nameof(x));
        int n = checked((int)x.shape[0]);
        if (o.Neighbors < 1 || o.Neighbors + 1 > n)
            throw new ArgumentException($"PIC needs more points ({n}) than neighbours + 1 ({o.Neighbors + 1}).", nameof(x));
        int nnn = o.Neighbors;

        var clock = Stopwatch.StartNew();
        using var scope = NewDisposeScope();
        var (dist, idx) = ChunkedSearch.Knn(x, x, nnn + 1, o.RowsPerChunk);
        var neighbors = idx.cpu().data<long>().ToArray();                 // [N, nnn+1], column 0 = self
        var graphTime = clock.Elapsed;

        // A: row i -> its neighbours (columns 1..nnn); W = A + Aᵀ, so Wᵀv = Av + Aᵀv.
        var rows = arange(n, ScalarType.Int64, x.device).repeat_interleave(nnn);
        var cols = idx.narrow(1, 1, nnn).reshape(-1);
        var weights = dist.narrow(1, 1, nnn).reshape(-1).to(ScalarType.Float64).div(-o.Sigma * o.Sigma).exp_();
        // The published loop starts from a float32 vector, but scipy's float64 product promotes it: float64 here.
        var v = full(n, 1.0 / n, ScalarType.Float64, x.device);
        for (int it = 0; it < o.Iterations; it++)
        {
            using var inner = NewDisposeScope();
            var next = zeros(n, ScalarType.Float64, x.device);
            next.index_add_(0, rows, weights * v.index_select(0, cols), 1);
            next.index_add_(0, cols, weights * v.index_select(0, rows), 1);
            next.mul_(o.Alpha).add_((1 - o.Alpha) / n);
            next.div_(next.sum());
            v.copy_(next);
        }
        var graph = SymmetricGraph.FromNeighbors(n, neighbors, nnn + 1, weights.cpu().data<double>().ToArray());
        var clusters = FindMaximaClusters(graph, v.cpu().data<double>().ToArray());
        var lists = GroupClusters(clusters, neighbors, nnn + 1, o.DistributeSingletons);
        var assignments = ClusterLists.ArrangeClustering(lists);
        return new PicResult(lists, assignments, graphTime, clock.Elapsed - graphTime);
    }

    /// <summary>The published <c>find_maxima_cluster</c>: each node points to the neighbour with the largest
    /// positive w_ij (v_j - v_i); chains end at local maxima, numbered in node order.</summary>
    static int[] FindMaximaClusters(SymmetricGraph w, double[] v)
    {
        int n = v.Length;
        var pointers = new int[n];
        for (int i = 0; i < n; i++)
        {
            pointers[i] = i;
            double best = 0;
            for (int l = w.RowStart[i]; l < w.RowStart[i + 1]; l++)
            {
                int j = w.Columns[l];
                double vi = w.Values[l] * (v[j] - v[i]);
                if (vi > best) { best = vi; pointers[i] = j; }
            }
        }
        var clusterIds = new int[n];
        int nClusters = 0;
        for (int i = 0; i < n; i++) clusterIds[i] = pointers[i] == i ? nClusters++ : -1;
        var assign = new int[n];
        for (int i = 0; i < n; i++)
        {
            int current = i;
            while (pointers[current] != current) current = pointers[current];   // v strictly increases: no cycles
            assign[i] = clusterIds[current];
        }
        return assign;
    }

    /// <summary>The published grouping: clusters in id order; singletons optionally joined to their nearest
    /// neighbour (in kNN order) that is not itself a singleton.</summary>
    static List<List<int>> GroupClusters(int[] clust, long[] neighbors, int width, bool distributeSingletons)
    {
        int nClusters = clust.Length == 0 ? 0 : clust.Max() + 1;
        var lists = new List<int>?[nClusters];
        for (int c = 0; c < nClusters; c++) lists[c] = new List<int>();
        for (int i = 0; i < clust.Length; i++) lists[clust[i]]!.Add(i);

        if (distributeSingletons)
        {
            var moves = new List<(int Point, int Neighbor)>();
            for (int c = 0; c < nClusters; c++)
            {
                if (lists[c]!.Count != 1) continue;
                int s = lists[c]![0];
                for (int t = 1; t < width; t++)
                {
                    int nb = (int)neighbors[(long)s * width + t];
                    if (lists[clust[nb]]!.Count != 1) { moves.Add((s, nb)); break; }
                }
            }
            foreach (var (s, nb) in moves)
            {
                lists[clust[s]] = null;
                clust[s] = clust[nb];
                lists[clust[s]]!.Add(s);
            }
        }
        var result = new List<List<int>>();
        foreach (var l in lists)
            if (l != null) { l.Sort(); result.Add(l); }
        return result;
    }
}
