using static TorchSharp.torch;

namespace DeepCluster.Core.Clustering;

/// <summary>
/// Exact nearest-centroid assignment across Lloyd iterations that searches only the points whose nearest centroid
/// may have changed (Hamerly's bounds). Per point it keeps an upper bound on the distance to its centroid and a lower
/// bound on the distance to every other one; after the centroids move, a point whose exact distance to its own centroid
/// is below max(lower bound, half the distance from its centroid to the nearest other centroid) provably keeps it.
/// The others are searched in full (chunked matrix products). Same assignments and distances as a full search, up to
/// float rounding; most points are skipped once the centroids settle. While most points are still uncertain (few
/// clusters, centroids still moving) checking the bounds costs more than it saves, so after an iteration that searched
/// more than <see cref="FullSearchAbove"/> of the points the next ones search every point and renew the bounds: one
/// such iteration, then two, four… while the bounds keep failing.
/// </summary>
public sealed class BoundedAssignment : IDisposable
{
    readonly Tensor x, xAugmented, xNorms;
    readonly long rowsPerChunk;
    Tensor? assign, lower, previous;
    int fullSearchesLeft, backoff = 1;

    /// <summary>
    /// Above this fraction of points searched, the next <see cref="Assign"/> searches every point: measured on 10 000
    /// × 256 points (k = 100 to 1000, 2 cores), checking the bounds costs about half a full search, and searching a
    /// point costs about as much as in a full search.
    /// </summary>
    public const double FullSearchAbove = 0.5;

    /// <summary>Fraction of the points searched in full by the last <see cref="Assign"/>.</summary>
    public double SearchedFraction { get; private set; } = 1;

    /// <param name="x">[N, d] points.</param>
    /// <param name="xAugmented">[N, d + 1] points with a column of ones (see <see cref="ChunkedSearch.Augment"/>).</param>
    /// <param name="xSquaredNorms">[N] squared norms of the points.</param>
    public BoundedAssignment(Tensor x, Tensor xAugmented, Tensor xSquaredNorms, long rowsPerChunk = 0)
    {
        this.x = x; this.xAugmented = xAugmented; xNorms = xSquaredNorms; this.rowsPerChunk = rowsPerChunk;
    }

    /// <summary>Squared distances to, and indices of, each point's nearest centroid among <paramref name="centroids"/>.</summary>
    public (Tensor Distances, Tensor Indices) Assign(Tensor centroids)
    {
        long k = centroids.shape[0];
        if (k < 2) return ChunkedSearch.NearestAugmented(xAugmented, xNorms, centroids, rowsPerChunk);
        if (assign is null)
        {
            var (d1, i1, d2) = Top2(xAugmented, xNorms, centroids);
            assign = i1.DetachFromDisposeScope();
            lower = d2.sqrt_().DetachFromDisposeScope();
            previous = centroids.clone().DetachFromDisposeScope();
            SearchedFraction = 1;
            return (d1, assign.clone());
        }
        if (fullSearchesLeft > 0)
        {
            // Every point searched; its distance is then computed exactly as in a bounded iteration, so a point's
            // distance does not depend on which kind of iteration its range happened to run (nor on the split).
            fullSearchesLeft--;
            using var fullScope = NewDisposeScope();
            var (_, i1, d2) = Top2(xAugmented, xNorms, centroids);
            assign.copy_(i1);
            lower!.copy_(d2.sqrt_());
            previous!.copy_(centroids);
            SearchedFraction = 1;
            return (AssignedDistances(centroids).MoveToOuterDisposeScope(), assign.clone().MoveToOuterDisposeScope());
        }
        using var scope = NewDisposeScope();
        // Lower bounds shrink by the largest move of any other centroid.
        var drift = (centroids - previous!).pow_(2).sum(1).sqrt_();
        var (topDrift, topIndex) = drift.topk(2);
        var maxOther = where(assign.eq(topIndex[0]), topDrift[1], topDrift[0]);
        lower!.sub_(maxOther);
        // Exact distances to the current centroid (N·d work, not N·k·d).
        var dAssigned = AssignedDistances(centroids);
        var upper = dAssigned.clamp_min(0).sqrt();
        // Half the distance from each centroid to its nearest other centroid.
        var cNorms = ChunkedSearch.SquaredNorms(centroids);
        var cc = addmm(cNorms.unsqueeze(0) + cNorms.unsqueeze(1), centroids, centroids.t(), 1, -2);
        cc.diagonal().fill_(float.PositiveInfinity);
        var half = cc.min(1).values.clamp_min_(0).sqrt_().mul_(0.5);
        var bound = maximum(lower, half.index_select(0, assign));
        var uncertain = upper.ge(bound.mul(1 - 1e-5f)).nonzero().squeeze(1);
        SearchedFraction = (double)uncertain.shape[0] / x.shape[0];
        if (SearchedFraction > FullSearchAbove) { fullSearchesLeft = backoff; backoff = Math.Min(backoff * 2, 64); }
        else backoff = 1;
        var distances = dAssigned.clone();
        if (uncertain.shape[0] > 0)
        {
            var (_, i1, d2) = Top2(xAugmented.index_select(0, uncertain), xNorms.index_select(0, uncertain), centroids);
            assign.index_copy_(0, uncertain, i1);
            distances.index_copy_(0, uncertain, AssignedDistances(centroids, uncertain));
            lower.index_copy_(0, uncertain, d2.sqrt_());
        }
        previous.copy_(centroids);
        return (distances.clamp_min_(0).MoveToOuterDisposeScope(), assign.clone().MoveToOuterDisposeScope());
    }

    /// <summary>||x_i - c_assign(i)||² for every point, or for the points <paramref name="rows"/> (int64 indices), in chunks.</summary>
    Tensor AssignedDistances(Tensor centroids, Tensor? rows = null)
    {
        long n = rows?.shape[0] ?? x.shape[0];
        long chunk = Math.Max(1024, ChunkedSearch.RowsPerChunk(centroids.shape[0], rowsPerChunk) * 4);
        var result = empty(n, ScalarType.Float32, x.device);
        for (long i0 = 0; i0 < n; i0 += chunk)
        {
            using var inner = NewDisposeScope();
            long b = Math.Min(chunk, n - i0);
            var (points, owners) = rows is null
                ? (x.narrow(0, i0, b), assign!.narrow(0, i0, b))
                : (x.index_select(0, rows.narrow(0, i0, b)), assign!.index_select(0, rows.narrow(0, i0, b)));
            result.narrow(0, i0, b).copy_((points - centroids.index_select(0, owners)).pow_(2).sum(1));
        }
        return result;
    }

    /// <summary>
    /// Nearest and second-nearest squared distances (and the nearest index) by chunked matrix products: the minimum of
    /// each row, then the minimum once that entry is masked (two passes of <c>min</c> cost less than one <c>topk(2)</c>;
    /// ties resolve as in <see cref="ChunkedSearch.NearestAugmented"/>).
    /// </summary>
    (Tensor D1, Tensor I1, Tensor D2) Top2(Tensor xa, Tensor norms, Tensor centroids)
    {
        long n = xa.shape[0], k = centroids.shape[0];
        long chunk = ChunkedSearch.RowsPerChunk(k, rowsPerChunk);
        var d1 = empty(n, ScalarType.Float32, xa.device);
        var d2 = empty(n, ScalarType.Float32, xa.device);
        var i1 = empty(n, ScalarType.Int64, xa.device);
        using (NewDisposeScope())
        {
            var dbT = cat(new[] { centroids * -2, ChunkedSearch.SquaredNorms(centroids).unsqueeze(1) }, 1).t();
            var scores = empty(Math.Min(chunk, n), k, ScalarType.Float32, xa.device);
            var infinities = full(Math.Min(chunk, n), 1, float.PositiveInfinity, ScalarType.Float32, xa.device);
            for (long i0 = 0; i0 < n; i0 += chunk)
            {
                using var inner = NewDisposeScope();
                long b = Math.Min(chunk, n - i0);
                var s = scores.narrow(0, 0, b);
                s.addmm_(xa.narrow(0, i0, b), dbT, 0, 1);
                var (first, idx) = s.min(1);
                s.scatter_(1, idx.unsqueeze(1), infinities.narrow(0, 0, b));
                var second = s.amin(1);
                var nb = norms.narrow(0, i0, b);
                d1.narrow(0, i0, b).copy_((first + nb).clamp_min_(0));
                d2.narrow(0, i0, b).copy_((second + nb).clamp_min_(0));
                i1.narrow(0, i0, b).copy_(idx);
            }
        }
        return (d1, i1, d2);
    }

    public void Dispose()
    {
        assign?.Dispose(); lower?.Dispose(); previous?.Dispose();
    }
}
