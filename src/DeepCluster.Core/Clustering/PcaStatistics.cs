using DeepCluster.Core.IO;
using static TorchSharp.torch;

namespace DeepCluster.Core.Clustering;

/// <summary>
/// Sufficient statistics of a set of rows for <see cref="PcaMatrix"/>: the count, the mean and the centred scatter
/// matrix Σ(x - mean)(x - mean)ᵀ, in float64 on the CPU. They are computed chunk by chunk (never holding more than
/// one chunk of rows) and merge exactly (Chan et al.'s pairwise update), so the PCA of a matrix split into row ranges
/// — one range per node — is fitted from the merged per-range statistics without any node holding the N×D matrix.
/// </summary>
/// <remarks>
/// This is the Σx / XᵀX reduction written in its numerically stable form: Σx = count·mean and
/// XᵀX = scatter + count·mean·meanᵀ, but keeping the scatter centred avoids the cancellation of XᵀX/N - mean·meanᵀ
/// when the mean is large next to the spread (ReLU features). Each chunk is centred on its own (float32-rounded)
/// mean and multiplied in float32, as <see cref="PcaMatrix.Train"/> does, and accumulated in float64.
/// </remarks>
public sealed class PcaStatistics : IDisposable
{
    /// <summary>Number of rows.</summary>
    public long Count { get; private set; }

    /// <summary>Mean of the rows, float64 [D] (zeros while <see cref="Count"/> is 0).</summary>
    public Tensor Mean { get; private set; }

    /// <summary>Centred scatter Σ(x - mean)(x - mean)ᵀ, float64 [D, D].</summary>
    public Tensor Scatter { get; private set; }

    /// <summary>Dimension of the rows.</summary>
    public long Dim => Mean.shape[0];

    /// <summary>Empty statistics for rows of <paramref name="dim"/> values.</summary>
    public PcaStatistics(long dim)
    {
        Mean = zeros(dim, ScalarType.Float64);
        Scatter = zeros(dim, dim, ScalarType.Float64);
    }

    PcaStatistics(long count, Tensor mean, Tensor scatter) { Count = count; Mean = mean; Scatter = scatter; }

    /// <summary>Statistics of the rows of <paramref name="x"/> (float32 [N, D], any device), by chunks of rows.</summary>
    public static PcaStatistics Of(Tensor x, int rowsPerChunk = NpyRowChunks.DefaultRowsPerChunk)
    {
        if (x.dim() != 2) throw new ArgumentException($"x: expected a 2-D [N, dim] matrix, got {x.dim()}-D.", nameof(x));
        var s = new PcaStatistics(x.shape[1]);
        for (long i0 = 0; i0 < x.shape[0]; i0 += rowsPerChunk)
            using (var chunk = x.narrow(0, i0, Math.Min(rowsPerChunk, x.shape[0] - i0)))
                s.AddRows(chunk);
        return s;
    }

    /// <summary>Statistics of rows [<paramref name="start"/>, <paramref name="start"/> + <paramref name="count"/>) of a features file, read in chunks.</summary>
    /// <exception cref="InvalidDataException">The rows hold NaN or Inf; names the file and the chunk.</exception>
    public static PcaStatistics OfFile(NpyRowChunks file, long start, long count, int rowsPerChunk = 0)
    {
        var s = new PcaStatistics(file.Cols);
        try
        {
            file.ForEachChunk(start, count, (row, chunk) =>
            {
                if (!AllFinite(chunk))
                    throw new InvalidDataException($"{file.Path}: rows {row}..{row + chunk.shape[0] - 1} contain NaN or Inf values.");
                s.AddRows(chunk);
            }, rowsPerChunk);
            return s;
        }
        catch { s.Dispose(); throw; }
    }

    /// <summary>Adds the rows of <paramref name="chunk"/> (float32 [b, D], any device).</summary>
    public void AddRows(Tensor chunk)
    {
        long b = chunk.shape[0];
        if (b == 0) return;
        if (chunk.shape[1] != Dim) throw new ArgumentException($"rows of {chunk.shape[1]} values added to statistics of dimension {Dim}.", nameof(chunk));
        using var scope = NewDisposeScope();
        var x = chunk.to_type(ScalarType.Float32);
        var shift = x.sum(new long[] { 0 }, type: ScalarType.Float64).div_(b).to_type(ScalarType.Float32);
        var xc = x - shift;                                                 // float32, centred on the chunk's rounded mean
        var s1 = xc.sum(new long[] { 0 }, type: ScalarType.Float64);
        var s2 = xc.t().matmul(xc).to_type(ScalarType.Float64);
        var mean = (shift.to_type(ScalarType.Float64) + s1 / b).cpu();
        var scatter = s2.sub_(outer(s1, s1).div_(b)).cpu();                 // re-centred on the exact chunk mean
        Merge(b, mean, scatter);
    }

    /// <summary>Adds another set of statistics (e.g. another node's range) to these.</summary>
    public void Add(PcaStatistics other)
    {
        if (other.Dim != Dim) throw new ArgumentException($"statistics of dimension {other.Dim} added to dimension {Dim}.", nameof(other));
        Merge(other.Count, other.Mean, other.Scatter);
    }

    /// <summary>The statistics of the union of <paramref name="parts"/> (disjoint row ranges), in a new object.</summary>
    public static PcaStatistics Merge(IEnumerable<PcaStatistics> parts)
    {
        PcaStatistics? total = null;
        foreach (var p in parts)
        {
            total ??= new PcaStatistics(p.Dim);
            total.Add(p);
        }
        return total ?? throw new ArgumentException("no statistics to merge.", nameof(parts));
    }

    void Merge(long nb, Tensor meanB, Tensor scatterB)
    {
        if (nb == 0) return;
        long na = Count, n = na + nb;
        using var scope = NewDisposeScope();
        var delta = meanB - Mean;
        Mean.add_(delta * ((double)nb / n));
        Scatter.add_(scatterB).add_(outer(delta, delta).mul_((double)na * nb / n));
        Count = n;
    }

    /// <summary>Population covariance (scatter / N), float64 [D, D].</summary>
    public Tensor Covariance() => Scatter / Count;

    /// <summary>
    /// The <see cref="PcaMatrix"/> of these rows: equal to <see cref="PcaMatrix.Train"/> on the whole matrix, up to float rounding.
    /// </summary>
    /// <exception cref="ArgumentException">Fewer than 2 rows, outputDim out of range, or zero variance.</exception>
    public PcaMatrix Fit(int outputDim, double eigenPower = -0.5, double relativeEigenFloor = PcaMatrix.RelativeEigenFloor)
    {
        if (Count < 2) throw new ArgumentException($"PCA needs at least 2 rows, got {Count}.");
        using var cov = Covariance();
        return PcaMatrix.FromCovariance(Mean, cov, outputDim, eigenPower, relativeEigenFloor);
    }

    /// <summary>Writes the statistics as a float64 .npy [D + 2, D]: row 0 holds the count, row 1 the mean, then the scatter.</summary>
    public void Save(string path)
    {
        using var scope = NewDisposeScope();
        var head = zeros(1, Dim, ScalarType.Float64);
        head[0, 0] = tensor((double)Count, ScalarType.Float64);
        NpyFile.WriteTensor(path, cat(new[] { head, Mean.unsqueeze(0), Scatter }, 0));
    }

    /// <summary>Reads statistics written by <see cref="Save"/>.</summary>
    /// <exception cref="InvalidDataException">The file is not a float64 [D + 2, D] statistics matrix; names it.</exception>
    public static PcaStatistics Load(string path)
    {
        using var all = NpyFile.ReadTensor(path);
        if (all.dtype != ScalarType.Float64 || all.dim() != 2 || all.shape[0] != all.shape[1] + 2)
            throw new InvalidDataException($"{path}: not PCA statistics (expected a float64 [D + 2, D] matrix, got {all.dtype} [{string.Join(", ", all.shape)}]).");
        long d = all.shape[1];
        return new PcaStatistics((long)all[0, 0].item<double>(), all[1].clone(), all.narrow(0, 2, d).clone());
    }

    static bool AllFinite(Tensor chunk)
    {
        using var scope = NewDisposeScope();
        return isfinite(chunk.sum(new long[] { 0 })).all().item<bool>() || isfinite(chunk).all().item<bool>();
    }

    /// <summary>Frees the tensors.</summary>
    public void Dispose() { Mean.Dispose(); Scatter.Dispose(); }
}
