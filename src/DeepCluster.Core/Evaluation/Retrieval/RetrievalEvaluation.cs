using System.Diagnostics;
using DeepCluster.Core.Clustering;
using DeepCluster.Core.Metrics;
using DeepCluster.Core.Models;
using static TorchSharp.torch;

namespace DeepCluster.Core.Evaluation.Retrieval;

/// <summary>
/// The published <c>eval_retrieval.py</c> in one pass (its stages <c>extract_train</c>, <c>train_pca</c>, <c>db_features</c>,
/// <c>q_features</c> and <c>eval</c>, without the temporary files): the region descriptors of every image of the
/// <c>--other</c> dataset give the PCA-whitening (<see cref="PcaMatrix"/> with the published eigenvalue floor, 1e-5 of
/// the largest); each database image and each cropped query gets its R-MAC descriptor (<see cref="Rmac"/>); queries rank the
/// database by dot product and are scored with Oxford's AP (<see cref="RetrievalAveragePrecision"/>). One image at a time,
/// each in its own dispose scope.
/// </summary>
public sealed class RetrievalEvaluation(DeepClusterNet net, RetrievalDataset data, RetrievalDataset? other, RetrievalSettings settings, Device device)
{
    /// <summary>The published PCA's eigenvalue floor, relative to the largest eigenvalue.</summary>
    public const double EigenFloor = 1e-5;

    public RetrievalResult Run(ILinearEvalObserver observer, Action<string> log, CancellationToken ct = default)
    {
        var clock = Stopwatch.StartNew();
        var trunk = new RetrievalTrunk(net);
        PcaMatrix? pca = null;
        double? energy = null;
        try
        {
            if (other is not null)
            {
                using var stats = new PcaStatistics(trunk.Channels);
                Pass(0, $"PCA regions {other.Name}", other.Images.Count, observer, ct, i =>
                {
                    using var regions = Regions(trunk, other.ImagePath(other.Images[i]), null, null);
                    stats.AddRows(regions);
                });
                int dim = Math.Min(settings.PcaDim, trunk.Channels);
                if (stats.Count < 2) throw new InvalidDataException($"--other {other.Root}: gives {stats.Count} region descriptor; PCA needs at least 2.");
                pca = stats.Fit(dim, -0.5, EigenFloor);
                using var cov = stats.Covariance();
                double total = linalg.eigvalsh(cov).clamp_min(pca.Eigenvalues[0] * EigenFloor).sum().item<double>();
                energy = pca.Eigenvalues.Sum(e => Math.Max(e, pca.Eigenvalues[0] * EigenFloor)) / total;
                log($"PCA-whitening {trunk.Channels} → {dim} learned on {stats.Count} regions of {other.Images.Count} {other.Name} images " +
                    $"(keeping {100 * energy:F2} % of the energy)");
            }
            else log($"no --other dataset: region descriptors are not PCA-whitened (the published script needs the other dataset's PCA)");

            int d = pca?.OutputDim ?? trunk.Channels;
            var db = new float[data.Images.Count * d];
            Pass(1, $"database {data.Name}", data.Images.Count, observer, ct, i => Describe(trunk, pca, data.ImagePath(data.Images[i]), null, null).CopyTo(db, i * d));
            var queries = new float[data.Queries.Count * d];
            Pass(2, $"queries {data.Name}", data.Queries.Count, observer, ct, i =>
            {
                var q = data.Queries[i];
                Describe(trunk, pca, data.ImagePath(q.Image), q.Box, Path.Combine(data.Root, "gt_files", q.Name + "_query.txt")).CopyTo(queries, i * d);
            });

            var scores = new List<RetrievalQueryScore>();
            var sims = new float[data.Images.Count];
            for (int qi = 0; qi < data.Queries.Count; qi++)
            {
                for (int j = 0; j < sims.Length; j++)
                {
                    float s = 0;
                    for (int k = 0; k < d; k++) s += queries[qi * d + k] * db[j * d + k];
                    sims[j] = s;
                }
                var q = data.Queries[qi];
                var ranking = RetrievalAveragePrecision.Rank(sims).Select(j => data.Images[j]).ToArray();
                scores.Add(new RetrievalQueryScore(q.Name, q.Image, RetrievalAveragePrecision.Compute(ranking, q.Relevant, q.Junk), ranking));
            }
            return new RetrievalResult(scores, RetrievalAveragePrecision.Mean(scores.Select(s => s.Ap)), data.Images.Count, d, trunk.Channels,
                                       other?.Images.Count ?? 0, energy, clock.Elapsed.TotalSeconds);
        }
        finally { pca?.Dispose(); }
    }

    static void Pass(int index, string label, int total, ILinearEvalObserver observer, CancellationToken ct, Action<int> each)
    {
        var clock = Stopwatch.StartNew();
        observer.OnProgress(new LinearEvalProgress(index, LinearEvalPhase.Test, 0, total, 0, label));
        for (int i = 0; i < total; i++)
        {
            ct.ThrowIfCancellationRequested();
            each(i);
            observer.OnProgress(new LinearEvalProgress(index, LinearEvalPhase.Test, i + 1, total, (i + 1) / clock.Elapsed.TotalSeconds, label));
        }
    }

    float[] Describe(RetrievalTrunk trunk, PcaMatrix? pca, string path, float[]? box, string? boxSource)
    {
        using var scope = NewDisposeScope();
        var regions = Regions(trunk, path, box, boxSource);
        return Rmac.Aggregate(regions, pca).cpu().data<float>().ToArray();
    }

    /// <summary>The L2-normalised region descriptors [R, C] of one image (cropped to <paramref name="box"/>), on the CPU.</summary>
    Tensor Regions(RetrievalTrunk trunk, string path, float[]? box, string? boxSource)
    {
        using var scope = NewDisposeScope();
        var input = RetrievalImage.Load(path, settings.ImDim, box, boxSource).to(device);
        Tensor map;
        try { map = trunk.Forward(input); }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            throw new InvalidDataException($"{boxSource ?? path}: the {input.shape[3]}×{input.shape[2]} input is too small for {net.Arch} " +
                                           $"(--imdim {settings.ImDim}{(box is null ? "" : $", box {string.Join(' ', box)}")}).");
        }
        return Rmac.RegionDescriptors(map, settings.Levels).cpu().MoveToOuterDisposeScope();
    }
}
