using System.Diagnostics;
using DeepCluster.Core.Clustering;
using DeepCluster.Core.Metrics;
using DeepCluster.Core.Models;
using static TorchSharp.torch;

namespace DeepCluster.Core.Evaluation.Retrieval;

/// <summary>
/// The published <c>eval_retrieval.py</c> in one pass (its stages <c>extract_train</c>, <c>train_pca</c>, <c>db_features</c>,
/// <c>q_features</c> and <c>eval</c>): the region descriptors of every image of the <c>--other</c> dataset give the
/// PCA-whitening (<see cref="PcaMatrix"/> with the published eigenvalue floor, 1e-5 of the largest); each database image
/// and each cropped query gets its R-MAC descriptor (<see cref="Rmac"/>); queries rank the database by dot product and
/// are scored with Oxford's AP (<see cref="RetrievalAveragePrecision"/>). One image at a time, each in its own dispose
/// scope. Every <see cref="RetrievalSettings.CheckpointEvery"/> images the PCA statistics or the database descriptors done
/// are saved in <paramref name="store"/> (<see cref="RetrievalDescriptorStore"/>), and what it holds is not computed again:
/// a killed run continues, and ends with the numbers of an uninterrupted one.
/// </summary>
public sealed class RetrievalEvaluation(DeepClusterNet net, RetrievalDataset data, RetrievalDataset? other, RetrievalSettings settings,
                                        RetrievalDescriptorStore store, Device device)
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
                var (stats, first) = store.LoadPca(trunk.Channels, other.Images.Count) ?? (new PcaStatistics(trunk.Channels), 0);
                using var _ = stats;
                if (first > 0) log($"resuming: the PCA statistics of {first}/{other.Images.Count} {other.Name} images are in {store.Folder}");
                int since = 0;
                Pass(0, $"PCA regions {other.Name}", other.Images.Count, first, observer, ct, i =>
                {
                    using (var regions = Regions(trunk, other, other.Images[i], null, null)) stats.AddRows(regions);
                    if (++since == settings.CheckpointEvery || i + 1 == other.Images.Count)
                    {
                        store.SavePca(stats, i + 1);
                        since = 0;
                    }
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
            var db = Descriptors(1, "database", $"database {data.Name}", data.Images.Count, d, observer, log, ct,
                                 i => Describe(trunk, pca, data, data.Images[i], null, null));
            // The queries (55 crops against 5 063 images on Oxford) are computed again by every run: their ground truth may change.
            var queries = new float[data.Queries.Count * d];
            Pass(2, $"queries {data.Name}", data.Queries.Count, 0, observer, ct, i =>
            {
                var q = data.Queries[i];
                Describe(trunk, pca, data, q.Image, q.Box, Path.Combine(data.Root, "gt_files", q.Name + "_query.txt")).CopyTo(queries, i * d);
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

    /// <summary>
    /// The <paramref name="count"/> × <paramref name="dim"/> descriptors of pass <paramref name="pass"/>: the chunks the
    /// store holds, the others computed by <paramref name="describe"/> and saved in runs of at most
    /// <see cref="RetrievalSettings.CheckpointEvery"/> consecutive indices.
    /// </summary>
    float[] Descriptors(int index, string pass, string label, int count, int dim, ILinearEvalObserver observer, Action<string> log,
                        CancellationToken ct, Func<int, float[]> describe)
    {
        var rows = new float[count * dim];
        var done = store.LoadChunks(pass, count, dim, rows);
        int kept = done.Count(x => x);
        if (kept > 0) log($"resuming: the descriptors of {kept}/{count} {label} are in {store.Folder}");
        int runStart = -1;
        void Flush(int end)
        {
            if (runStart >= 0) store.SaveChunk(pass, runStart, end, dim, rows);
            runStart = -1;
        }
        var clock = Stopwatch.StartNew();
        int finished = kept;
        observer.OnProgress(new LinearEvalProgress(index, LinearEvalPhase.Test, finished, count, 0, label));
        for (int i = 0; i < count; i++)
        {
            if (done[i]) { Flush(i); continue; }
            ct.ThrowIfCancellationRequested();
            describe(i).CopyTo(rows, i * dim);
            if (runStart < 0) runStart = i;
            if (i + 1 - runStart == settings.CheckpointEvery) Flush(i + 1);
            finished++;
            observer.OnProgress(new LinearEvalProgress(index, LinearEvalPhase.Test, finished, count, (finished - kept) / clock.Elapsed.TotalSeconds, label));
        }
        Flush(count);
        return rows;
    }

    /// <summary>Calls <paramref name="each"/> for items <paramref name="first"/>..<paramref name="total"/> − 1 in order, reporting progress.</summary>
    static void Pass(int index, string label, int total, int first, ILinearEvalObserver observer, CancellationToken ct, Action<int> each)
    {
        var clock = Stopwatch.StartNew();
        observer.OnProgress(new LinearEvalProgress(index, LinearEvalPhase.Test, first, total, 0, label));
        for (int i = first; i < total; i++)
        {
            ct.ThrowIfCancellationRequested();
            each(i);
            observer.OnProgress(new LinearEvalProgress(index, LinearEvalPhase.Test, i + 1, total, (i + 1 - first) / clock.Elapsed.TotalSeconds, label));
        }
    }

    float[] Describe(RetrievalTrunk trunk, PcaMatrix? pca, RetrievalDataset set, string image, float[]? box, string? boxSource)
    {
        using var scope = NewDisposeScope();
        var regions = Regions(trunk, set, image, box, boxSource);
        return Rmac.Aggregate(regions, pca).cpu().data<float>().ToArray();
    }

    /// <summary>The L2-normalised region descriptors [R, C] of one image of <paramref name="set"/> (cropped to <paramref name="box"/>), on the CPU.</summary>
    Tensor Regions(RetrievalTrunk trunk, RetrievalDataset set, string image, float[]? box, string? boxSource)
    {
        using var scope = NewDisposeScope();
        var source = set.Describe(image);
        var input = RetrievalImage.Prepare(set.Load(image), source, settings.ImDim, box, boxSource).to(device);
        Tensor map;
        try { map = trunk.Forward(input); }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            throw new InvalidDataException($"{boxSource ?? source}: the {input.shape[3]}×{input.shape[2]} input is too small for {net.Arch} " +
                                           $"(--imdim {settings.ImDim}{(box is null ? "" : $", box {string.Join(' ', box)}")}).");
        }
        return Rmac.RegionDescriptors(map, settings.Levels).cpu().MoveToOuterDisposeScope();
    }
}
