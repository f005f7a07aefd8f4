using static TorchSharp.torch;

namespace DeepCluster.Core.Clustering;

/// <summary>
/// Exact squared-L2 nearest-neighbour search by chunks of query rows, like faiss <c>IndexFlatL2.search</c>:
/// d(x, y) = ||x||² - 2 x·y + ||y||², computed with one matrix product per chunk, so memory stays at
/// chunk × database entries whatever the number of queries. Distances are clamped at 0 as faiss does.
/// </summary>
public static class ChunkedSearch
{
    /// <summary>Entries of the chunk × database score matrix aimed for (16 Mi floats = 64 MiB).</summary>
    public const long ScoreEntriesPerChunk = 1L << 22;

    /// <summary>Query rows per chunk for a database of <paramref name="databaseRows"/> rows (override with a positive value).</summary>
    public static long RowsPerChunk(long databaseRows, long requested = 0) =>
        requested > 0 ? requested : Math.Clamp(ScoreEntriesPerChunk / Math.Max(1, databaseRows), 64, 65536);

    /// <summary>
    /// For each row of <paramref name="x"/> [N, d], the squared distance (float32 [N]) to and the index (int64 [N])
    /// of the nearest row of <paramref name="database"/> [K, d]. Ties go to the lowest index.
    /// </summary>
    /// <param name="x">Queries.</param>
    /// <param name="database">Rows searched (e.g. centroids).</param>
    /// <param name="xSquaredNorms">Optional precomputed ||x_i||² (float32 [N]) to reuse across calls.</param>
    /// <param name="rowsPerChunk">Query rows per matrix product; 0 chooses from <see cref="ScoreEntriesPerChunk"/>.</param>
    public static (Tensor Distances, Tensor Indices) Nearest(Tensor x, Tensor database, Tensor? xSquaredNorms = null, long rowsPerChunk = 0)
    {
        long n = x.shape[0], k = database.shape[0];
        long chunk = RowsPerChunk(k, rowsPerChunk);
        var distances = empty(n, ScalarType.Float32, x.device);
        var indices = empty(n, ScalarType.Int64, x.device);
        using (NewDisposeScope())
        {
            var xNorms = xSquaredNorms ?? SquaredNorms(x);
            var dbNorms = SquaredNorms(database).unsqueeze(0);
            var dbT = database.t();
            var scores = empty(Math.Min(chunk, n), k, ScalarType.Float32, x.device);
            for (long i0 = 0; i0 < n; i0 += chunk)
            {
                using var inner = NewDisposeScope();
                long b = Math.Min(chunk, n - i0);
                var s = scores.narrow(0, 0, b);
                s.copy_(dbNorms.expand(b, k));
                s.addmm_(x.narrow(0, i0, b), dbT, 1, -2);            // ||y||² - 2 x·y
                var (mins, argmins) = s.min(1);
                distances.narrow(0, i0, b).copy_(mins.add_(xNorms.narrow(0, i0, b)));
                indices.narrow(0, i0, b).copy_(argmins);
            }
        }
        distances.clamp_min_(0);
        return (distances, indices);
    }

    /// <summary>Queries with a trailing column of ones, float32 [N, d+1], for <see cref="NearestAugmented"/>.</summary>
    public static Tensor Augment(Tensor x)
    {
        using var one = ones(x.shape[0], 1, ScalarType.Float32, x.device);
        return cat(new[] { x, one }, 1);
    }

    /// <summary>
    /// <see cref="Nearest"/> for queries prepared once with <see cref="Augment"/>: the database is turned into
    /// [-2y, ||y||²], so one product per chunk gives ||y||² - 2 x·y with no separate broadcast pass
    /// (what k-means calls every iteration).
    /// </summary>
    /// <param name="xAugmented">Queries from <see cref="Augment"/>, [N, d+1].</param>
    /// <param name="xSquaredNorms">||x_i||², float32 [N].</param>
    /// <param name="database">Rows searched, [K, d].</param>
    /// <param name="rowsPerChunk">Query rows per matrix product; 0 chooses automatically.</param>
    public static (Tensor Distances, Tensor Indices) NearestAugmented(Tensor xAugmented, Tensor xSquaredNorms, Tensor database, long rowsPerChunk = 0)
    {
        long n = xAugmented.shape[0], k = database.shape[0];
        long chunk = RowsPerChunk(k, rowsPerChunk);
        var distances = empty(n, ScalarType.Float32, xAugmented.device);
        var indices = empty(n, ScalarType.Int64, xAugmented.device);
        using (NewDisposeScope())
        {
            var dbT = cat(new[] { database * -2, SquaredNorms(database).unsqueeze(1) }, 1).t();
            var scores = empty(Math.Min(chunk, n), k, ScalarType.Float32, xAugmented.device);
            for (long i0 = 0; i0 < n; i0 += chunk)
            {
                using var inner = NewDisposeScope();
                long b = Math.Min(chunk, n - i0);
                var s = scores.narrow(0, 0, b);
                s.addmm_(xAugmented.narrow(0, i0, b), dbT, 0, 1);          // beta 0: old contents ignored
                var (mins, argmins) = s.min(1);
                distances.narrow(0, i0, b).copy_(mins.add_(xSquaredNorms.narrow(0, i0, b)));
                indices.narrow(0, i0, b).copy_(argmins);
            }
        }
        distances.clamp_min_(0);
        return (distances, indices);
    }

    /// <summary>
    /// The <paramref name="k"/> nearest rows of <paramref name="database"/> for each row of <paramref name="x"/>,
    /// nearest first: squared distances float32 [N, k] and indices int64 [N, k] (faiss <c>search(x, k)</c>).
    /// </summary>
    public static (Tensor Distances, Tensor Indices) Knn(Tensor x, Tensor database, int k, long rowsPerChunk = 0)
    {
        long n = x.shape[0], m = database.shape[0];
        if (k < 1 || k > m) throw new ArgumentException($"k = {k} must be in 1..{m} (database rows).", nameof(k));
        long chunk = RowsPerChunk(m, rowsPerChunk);
        var distances = empty(n, k, ScalarType.Float32, x.device);
        var indices = empty(n, k, ScalarType.Int64, x.device);
        using (NewDisposeScope())
        {
            var xNorms = SquaredNorms(x);
            var dbNorms = SquaredNorms(database).unsqueeze(0);
            var dbT = database.t();
            for (long i0 = 0; i0 < n; i0 += chunk)
            {
                using var inner = NewDisposeScope();
                long b = Math.Min(chunk, n - i0);
                var s = addmm(dbNorms, x.narrow(0, i0, b), dbT, 1, -2);
                var (vals, idx) = s.topk(k, dim: 1, largest: false, sorted: true);
                distances.narrow(0, i0, b).copy_(vals.add_(xNorms.narrow(0, i0, b).unsqueeze(1)).clamp_min_(0));
                indices.narrow(0, i0, b).copy_(idx);
            }
        }
        return (distances, indices);
    }

    /// <summary>||x_i||² for each row, float32 [N].</summary>
    public static Tensor SquaredNorms(Tensor x)
    {
        using var sq = x.square();
        return sq.sum(1);
    }
}
