using System.Globalization;
using System.Text.RegularExpressions;
using DeepCluster.Core.Clustering;
using DeepCluster.Core.IO;

namespace DeepCluster.Core.Evaluation.Retrieval;

/// <summary>
/// What a retrieval evaluation has finished, kept in <c>descriptors/</c> of its <c>--exp</c> folder so that a killed run
/// continues where it stopped: the PCA statistics of the first N images of <c>--other</c>
/// (<c>pca-{N}.npy</c>, <see cref="PcaStatistics.Save"/>; only the newest is kept) and the R-MAC descriptors of the
/// database images in chunks of consecutive indices (<c>database-{start}-{end}.npy</c>: float32 [end − start, dim]). Each file is written whole (temporary file + rename),
/// so a kill leaves the chunks finished before it and nothing half-written; the statistics merge exactly and each
/// descriptor depends only on its image, so a continued run ends with the numbers of an uninterrupted one.
/// <see cref="RetrievalEvalFolder.Prepare"/> refuses a folder holding a run of other settings before any file is read.
/// </summary>
public sealed partial class RetrievalDescriptorStore
{
    /// <summary>The folder of the files.</summary>
    public string Folder { get; }

    public RetrievalDescriptorStore(string folder) => Folder = Path.GetFullPath(folder);

    [GeneratedRegex(@"^pca-(\d+)\.npy$")]
    private static partial Regex PcaName();

    [GeneratedRegex(@"^([a-z]+)-(\d+)-(\d+)\.npy$")]
    private static partial Regex ChunkName();

    /// <summary>The newest saved PCA statistics and how many images of <c>--other</c> they cover; null when none are saved.</summary>
    /// <exception cref="InvalidDataException">The file is not statistics of dimension <paramref name="dim"/>, or covers more than <paramref name="images"/> images.</exception>
    public (PcaStatistics Stats, int Images)? LoadPca(long dim, int images)
    {
        var newest = PcaFiles().OrderByDescending(f => f.Images).FirstOrDefault();
        if (newest.Path is null) return null;
        var stats = PcaStatistics.Load(newest.Path);
        if (stats.Dim != dim || newest.Images > images)
        {
            stats.Dispose();
            throw new InvalidDataException($"{newest.Path}: PCA statistics of {newest.Images} images of dimension {stats.Dim}, not of at most {images} images of dimension {dim}; " +
                                           $"delete {Folder} to start the evaluation again.");
        }
        return (stats, newest.Images);
    }

    /// <summary>Saves the statistics of the first <paramref name="images"/> images of <c>--other</c>; older ones are deleted once it is in place.</summary>
    public void SavePca(PcaStatistics stats, int images)
    {
        Directory.CreateDirectory(Folder);
        stats.Save(Path.Combine(Folder, string.Create(CultureInfo.InvariantCulture, $"pca-{images:D6}.npy")));
        foreach (var (path, n) in PcaFiles())
            if (n < images) File.Delete(path);
    }

    IEnumerable<(string Path, int Images)> PcaFiles() =>
        !Directory.Exists(Folder) ? [] :
        Directory.EnumerateFiles(Folder, "pca-*.npy").Select(f => (f, PcaName().Match(Path.GetFileName(f))))
                 .Where(p => p.Item2.Success).Select(p => (p.f, int.Parse(p.Item2.Groups[1].Value, CultureInfo.InvariantCulture)));

    /// <summary>
    /// Copies the saved descriptors of <paramref name="pass"/> (<c>database</c>) into
    /// <paramref name="rows"/> (<paramref name="count"/> × <paramref name="dim"/>, row-major) and returns which rows were saved.
    /// </summary>
    /// <exception cref="InvalidDataException">A chunk lies outside 0..<paramref name="count"/> or does not hold [end − start, dim] float32 values.</exception>
    public bool[] LoadChunks(string pass, int count, int dim, float[] rows)
    {
        var done = new bool[count];
        if (!Directory.Exists(Folder)) return done;
        foreach (var file in Directory.EnumerateFiles(Folder, pass + "-*.npy").Order(StringComparer.Ordinal))
        {
            var m = ChunkName().Match(Path.GetFileName(file));
            if (!m.Success || m.Groups[1].Value != pass) continue;
            int start = int.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture), end = int.Parse(m.Groups[3].Value, CultureInfo.InvariantCulture);
            if (start >= end || end > count)
                throw new InvalidDataException($"{file}: descriptors of {pass} {start}..{end - 1}, but there are {count}; delete {Folder} to start the evaluation again.");
            var (data, r, c) = NpyFile.ReadFloat32Matrix(file);
            if (r != end - start || c != dim)
                throw new InvalidDataException($"{file}: holds {r}×{c} values, expected {end - start}×{dim}; delete {Folder} to start the evaluation again.");
            data.AsSpan().CopyTo(rows.AsSpan(start * dim));
            for (int i = start; i < end; i++) done[i] = true;
        }
        return done;
    }

    /// <summary>Saves rows <paramref name="start"/>..<paramref name="end"/> − 1 of <paramref name="rows"/> (row-major, <paramref name="dim"/> wide) as a chunk of <paramref name="pass"/>.</summary>
    public void SaveChunk(string pass, int start, int end, int dim, float[] rows)
    {
        Directory.CreateDirectory(Folder);
        NpyFile.WriteFloat32Matrix(Path.Combine(Folder, string.Create(CultureInfo.InvariantCulture, $"{pass}-{start:D6}-{end:D6}.npy")),
                                   rows.AsSpan(start * dim, (end - start) * dim), end - start, dim);
    }
}
