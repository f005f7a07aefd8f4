using System.Diagnostics;
using System.Text;
using DeepCluster.Core.Clustering;
using DeepCluster.Core.Data;
using DeepCluster.Core.Evaluation;
using DeepCluster.Core.IO;
using DeepCluster.Core.Models;
using static TorchSharp.torch;

namespace DeepCluster.Core.Export;

/// <summary>How <see cref="FeatureExport"/> post-processes the rows and reads the images.</summary>
/// <param name="Pca">PCA-whiten to this many dimensions (faiss <c>PCAMatrix(d, Pca, eigen_power=-0.5)</c> fitted on
/// all the rows, as clustering does); 0: no PCA.</param>
/// <param name="L2">Divide each row by its L2 norm (after the PCA, if any).</param>
/// <param name="BatchSize">Images per forward pass.</param>
/// <param name="Workers">Decoding threads.</param>
public sealed record FeatureExportSettings(int Pca = 0, bool L2 = false, int BatchSize = 256, int Workers = 4);

/// <summary>What <see cref="FeatureExport.Run"/> wrote.</summary>
public sealed record FeatureExportResult(string Path, string PathsFile, int Rows, int Cols, double Seconds);

/// <summary>
/// <c>deepcluster features</c>: the features DeepCluster clusters, for a whole dataset, as the released ImageNet features
/// are: the model's classifier output without its last ReLU and without the head (main.py's <c>compute_features</c>
/// after stripping the ReLU: 4096 values an image for AlexNet and VGG16), from the feature pass transforms (Resize 256,
/// CenterCrop 224, ImageNet normalisation). Optionally PCA-whitened (<see cref="FeatureExportSettings.Pca"/>) and
/// L2-normalised (<see cref="FeatureExportSettings.L2"/>); both together are the published <c>preprocess_features</c>
/// (<see cref="FeaturePreprocessing"/>), the rows k-means sees. Row i is image i of the dataset; the paths file beside the
/// output (<see cref="PathsFile"/>) gives image i's path on line i.
/// </summary>
/// <remarks>
/// Memory stays one batch (plus the PCA's d×d statistics): the raw rows are streamed to disk, and with a PCA they go to a
/// temporary file that is read twice in chunks (<see cref="PcaStatistics.OfFile"/>, then the projection). The output is
/// written atomically (<see cref="AtomicFile"/>): it is whole or absent.
/// </remarks>
public static class FeatureExport
{
    /// <summary>The file listing the images of <paramref name="outPath"/>'s rows: <c>OUT.paths.txt</c> (UTF-8, one path a line).</summary>
    public static string PathsFile(string outPath) => Path.GetFullPath(outPath) + ".paths.txt";

    /// <summary>Checks the settings against the model and the dataset before anything runs.</summary>
    /// <exception cref="ArgumentException">A value a flag cannot take; names the flag.</exception>
    public static void Validate(FeatureExportSettings s, int featureDim, int images)
    {
        if (s.Pca < 0) throw new ArgumentException($"--pca {s.Pca}: give a positive dimension (or leave --pca out for the raw features).");
        if (s.Pca > featureDim) throw new ArgumentException($"--pca {s.Pca}: larger than the feature dimension {featureDim}.");
        if (s.Pca > 0 && images < 2) throw new ArgumentException($"--pca {s.Pca}: a PCA needs at least 2 images; the dataset has {images}.");
        if (s.BatchSize < 1) throw new ArgumentException($"--batch {s.BatchSize}: give at least 1.");
        if (s.Workers < 1) throw new ArgumentException($"--workers {s.Workers}: give at least 1.");
    }

    /// <summary>Computes and writes the features of <paramref name="data"/> to <paramref name="outPath"/> (an .npy of float32 [N, D]) and its paths file.</summary>
    public static FeatureExportResult Run(DeepClusterNet net, Device device, IImageDataset data, string outPath,
                                          FeatureExportSettings s, ILinearEvalObserver observer, CancellationToken ct = default)
    {
        Validate(s, net.FeatureDim, data.Count);
        var full = Path.GetFullPath(outPath);
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        var clock = Stopwatch.StartNew();
        int cols;
        if (s.Pca == 0)
        {
            using var output = new AtomicFile(full);
            cols = Forward(net, device, data, output.Stream, s, observer, ct);
            output.Commit();
        }
        else
        {
            // The raw rows in a temporary file beside the output (its name is one AtomicFile.RemoveStale removes if we are killed).
            var raw = Path.Combine(Path.GetDirectoryName(full)!, $".{Path.GetFileName(full)}.raw.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp");
            try
            {
                using (var rawStream = new FileStream(raw, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16))
                    Forward(net, device, data, rawStream, s with { L2 = false }, observer, ct);
                cols = Whiten(raw, full, s, observer, ct);
            }
            finally { try { File.Delete(raw); } catch (IOException) { /* removed by the next RemoveStale */ } }
        }
        WritePaths(PathsFile(full), data);
        return new FeatureExportResult(full, PathsFile(full), data.Count, cols, clock.Elapsed.TotalSeconds);
    }

    /// <summary>The raw (or L2-normalised) rows of every image, in dataset order, as an .npy into <paramref name="output"/>; returns D.</summary>
    static int Forward(DeepClusterNet net, Device device, IImageDataset data, Stream output, FeatureExportSettings s,
                       ILinearEvalObserver observer, CancellationToken ct)
    {
        int dim = net.FeatureDim;
        NpyHeader.Write(output, "<f4", [data.Count, dim]);
        var loader = new BatchLoader(data, DeepClusterTransforms.Features(net.InputSize), null, s.BatchSize, s.Workers);
        var clock = Stopwatch.StartNew();
        int done = 0;
        observer.OnProgress(new LinearEvalProgress(0, LinearEvalPhase.Test, 0, data.Count, 0, "features"));
        foreach (var batch in loader)
        {
            using var b = batch;
            ct.ThrowIfCancellationRequested();
            if (b.Count == 0 || b.Indices[0] != done || b.Indices[^1] != done + b.Count - 1)
                throw new InvalidDataException($"images {done}..: the loader gave images out of order; the export needs every image once, in order.");
            using (var scope = NewDisposeScope())
            using (inference_mode())
            {
                var h = net.Embed(b.Images.to(device));
                if (h.shape[1] != dim) throw new InvalidDataException($"the model gives {h.shape[1]} features an image, its declared dimension is {dim}.");
                if (s.L2) h = FeaturePreprocessing.L2Normalize(h);
                var rows = h.to(ScalarType.Float32).cpu().contiguous();
                output.Write(rows.bytes);                          // the tensor's own memory: no copy
            }
            done += b.Count;
            observer.OnProgress(new LinearEvalProgress(0, LinearEvalPhase.Test, done, data.Count, done / Math.Max(1e-9, clock.Elapsed.TotalSeconds), "features"));
        }
        if (done != data.Count) throw new InvalidDataException($"{done} of {data.Count} images were read.");
        return dim;
    }

    /// <summary>Fits the PCA on the rows of <paramref name="raw"/>, and writes them projected (and L2-normalised) to <paramref name="path"/>.</summary>
    static int Whiten(string raw, string path, FeatureExportSettings s, ILinearEvalObserver observer, CancellationToken ct)
    {
        var file = new NpyRowChunks(raw);
        PcaMatrix pca;
        try
        {
            using var stats = PcaStatistics.OfFile(file, 0, file.Rows);
            pca = stats.Fit(s.Pca);
        }
        catch (ArgumentException e) { throw new ArgumentException($"--pca {s.Pca}: {e.Message}"); }
        using var _ = pca;
        using var output = new AtomicFile(path);
        NpyHeader.Write(output.Stream, "<f4", [file.Rows, s.Pca]);
        file.ForEachChunk(0, file.Rows, (row, chunk) =>
        {
            ct.ThrowIfCancellationRequested();
            using var scope = NewDisposeScope();
            var y = pca.Apply(chunk);
            if (s.L2) y = FeaturePreprocessing.L2Normalize(y);
            output.Stream.Write(y.contiguous().bytes);
            observer.OnProgress(new LinearEvalProgress(1, LinearEvalPhase.Test, (int)(row + chunk.shape[0]), (int)file.Rows, 0, $"PCA-whitening to {s.Pca}"));
        });
        output.Commit();
        return s.Pca;
    }

    static void WritePaths(string path, IImageDataset data) => AtomicFile.Write(path, stream =>
    {
        using var w = new StreamWriter(stream, new UTF8Encoding(false), 1 << 16, leaveOpen: true) { NewLine = "\n" };
        foreach (var p in SamplePaths.All(data))
        {
            if (p.Contains('\n')) throw new InvalidDataException($"{p}: a path with a line break cannot be listed one a line.");
            w.WriteLine(p);
        }
    });
}
