using DeepCluster.Core.IO;
using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using DeepCluster.Core.Clustering;
using DeepCluster.Core.Native;
using Spectre.Console;
using TorchSharp;
using static TorchSharp.torch;

namespace DeepCluster.Cli.Commands;

/// <summary>
/// `deepcluster cluster FEATURES.npy --k K --out DIR`: the published clustering step on saved features —
/// PCA-whitening + L2 normalisation, then k-means (faiss semantics) or PIC. Writes assignments.npy (int64),
/// images_lists (pickle), objective.tsv and summary.json into DIR.
/// </summary>
public static class ClusterCommand
{
    /// <summary>Exit code for bad input (missing file, wrong array, out-of-range flag).</summary>
    public const int BadInput = 2;

    public static Command Create()
    {
        var features = new Argument<string>("features") { Description = "Features to cluster: a float32 [N, dim] .npy file." };
        var k = new Option<int>("--k") { Description = "Number of clusters (k-means).", Required = true };
        var clustering = new Option<string>("--clustering") { Description = "Kmeans or PIC.", DefaultValueFactory = _ => "Kmeans" };
        var pca = new Option<int>("--pca") { Description = "PCA dimension before clustering.", DefaultValueFactory = _ => 256 };
        var niter = new Option<int>("--niter") { Description = "k-means iterations.", DefaultValueFactory = _ => 20 };
        var seed = new Option<long>("--seed") { Description = "k-means seed (faiss Clustering.seed).", DefaultValueFactory = _ => 1234 };
        var device = new Option<string?>("--device") { Description = "cpu, cuda or cuda:N (default: cuda when available)." };
        var threads = new Option<int>("--threads") { Description = "CPU threads for libtorch (0: libtorch's default)." };
        var output = new Option<string>("--out") { Description = "Output folder.", Required = true };

        var cmd = new Command("cluster", "Cluster saved features like DeepCluster: PCA-whitening, L2 norm, then k-means or PIC.");
        cmd.Arguments.Add(features);
        foreach (var o in new Option[] { k, clustering, pca, niter, seed, device, threads, output }) cmd.Options.Add(o);
        cmd.SetAction(r => Run(new Settings(r.GetValue(features)!, r.GetValue(k), r.GetValue(clustering)!, r.GetValue(pca),
                                            r.GetValue(niter), r.GetValue(seed), r.GetValue(device) ?? "auto", r.GetValue(threads), r.GetValue(output)!)));
        return cmd;
    }

    internal sealed record Settings(string Features, int K, string Clustering, int Pca, int Iterations, long Seed,
                                    string Device, int Threads, string Out);

    internal static int Run(Settings s)
    {
        try { return RunChecked(s); }
        catch (BadInputException e) { return Errors.Fail(e.Message); }
    }

    sealed class BadInputException(string message) : Exception(message);

    static int RunChecked(Settings s)
    {
        var total = Stopwatch.StartNew();
        bool pic = s.Clustering.Equals("PIC", StringComparison.OrdinalIgnoreCase);
        if (!pic && !s.Clustering.Equals("Kmeans", StringComparison.OrdinalIgnoreCase))
            throw new BadInputException($"--clustering {s.Clustering}: expected Kmeans or PIC.");
        if (s.K <= 0) throw new BadInputException($"--k {s.K}: must be a positive number of clusters.");
        if (s.Pca <= 0) throw new BadInputException($"--pca {s.Pca}: must be positive.");
        if (s.Iterations <= 0) throw new BadInputException($"--niter {s.Iterations}: must be positive.");
        if (s.Threads < 0) throw new BadInputException($"--threads {s.Threads}: must be 0 or more.");
        if (!File.Exists(s.Features)) throw new BadInputException($"{s.Features}: no such file.");
        CheckOutput(s.Out);

        TorchRuntime.EnsureLoaded();
        if (s.Threads > 0) torch.set_num_threads(s.Threads);
        Device dev;
        TorchRuntime.FlushDenormals();
        try { dev = TorchRuntime.ResolveDevice(s.Device); }
        catch (ArgumentException e) { throw new BadInputException(e.Message); }

        using var scope = NewDisposeScope();
        var load = Stopwatch.StartNew();
        long n, dim;
        try
        {
            // Only the header is read here: the clustering streams the rows (the N × dim matrix is never loaded).
            var h = NpyFile.ReadHeader(s.Features);
            if (h.Descr != "<f4") throw new InvalidDataException($"{s.Features}: dtype {h.Descr}, expected float32 ('<f4').");
            if (h.Shape.Length != 2)
                throw new InvalidDataException($"{s.Features}: shape ({string.Join(", ", h.Shape)}) has rank {h.Shape.Length}, expected a 2-D [N, dim] matrix.");
            var rows = new NpyRowChunks(s.Features);
            (n, dim) = (rows.Rows, rows.Cols);
        }
        catch (Exception e) when (e is InvalidDataException or IOException or FormatException or EndOfStreamException)
        { throw new BadInputException(e is EndOfStreamException ? $"{s.Features}: truncated file." : e.Message); }
        if (s.Pca > dim) throw new BadInputException($"--pca {s.Pca}: larger than the feature dimension {dim} of {s.Features}.");
        if (s.K > n) throw new BadInputException($"--k {s.K}: larger than the number of points {n} in {s.Features}.");
        if (n < 2) throw new BadInputException($"{s.Features}: needs at least 2 points, has {n}.");
        var loadTime = load.Elapsed;
        Log($"{n} × {dim} features from {s.Features} on {dev} ({torch.get_num_threads()} threads), streamed in chunks");

        ClusteringOutcome r;
        try
        {
            r = WithProgress(pic ? 1 : s.Iterations, progress => ClusteringRunner.Run(s.Features, pic ? "PIC" : "Kmeans", s.K, s.Pca,
                s.Iterations, s.Seed, dev, progress, Errors.Warn));
        }
        catch (ArgumentException e) { throw new BadInputException($"{s.Features}: {e.Message}"); }
        catch (Exception e) when (e is InvalidDataException or IOException or EndOfStreamException)
        { throw new BadInputException(e is EndOfStreamException ? $"{s.Features}: truncated file." : e.Message); }
        var (lists, assignments, iterations) = (r.ImagesLists, r.Assignments, r.Iterations);
        double? loss = pic ? null : r.Loss;
        var pcaTime = TimeSpan.FromSeconds(r.PreprocessSeconds);
        var clusterTime = TimeSpan.FromSeconds(r.ClusteringSeconds);
        Log($"PCA-whitening to {s.Pca} + L2 norm: {pcaTime.TotalSeconds:F2} s");
        Log($"{(pic ? "PIC" : "k-means")}: {lists.Count} clusters ({lists.Count(l => l.Count == 0)} empty) in {clusterTime.TotalSeconds:F2} s" +
            (loss is double l0 ? $", final objective {l0.ToString("R", CultureInfo.InvariantCulture)}" : ""));

        Directory.CreateDirectory(s.Out);
        NpyFile.WriteInt64(Path.Combine(s.Out, "assignments.npy"), assignments);
        ClustersLog.WriteImagesLists(Path.Combine(s.Out, "images_lists"), lists.Select(l => (IReadOnlyList<int>)l).ToList());
        File.WriteAllLines(Path.Combine(s.Out, "objective.tsv"),
            iterations.Select(i => string.Create(CultureInfo.InvariantCulture, $"{i.Iteration}\t{i.Objective:R}\t{i.Splits}\t{i.Elapsed.TotalSeconds:F3}"))
                      .Prepend("iteration\tobjective\tsplits\tseconds"));
        var summary = new Dictionary<string, object?>
        {
            ["features"] = Path.GetFullPath(s.Features), ["n"] = n, ["dim"] = dim, ["clustering"] = pic ? "PIC" : "Kmeans",
            ["k"] = pic ? lists.Count : s.K, ["pca"] = s.Pca, ["niter"] = pic ? null : s.Iterations, ["seed"] = s.Seed,
            ["device"] = dev.ToString(), ["threads"] = torch.get_num_threads(),
            ["final_objective"] = loss, ["assignment_objective"] = r.AssignmentObjective,
            ["objectives"] = iterations.Select(i => i.Objective).ToArray(),
            ["empty_clusters"] = lists.Count(l => l.Count == 0),
            ["seconds"] = new Dictionary<string, double>
            {
                ["load"] = loadTime.TotalSeconds, ["pca"] = pcaTime.TotalSeconds,
                ["clustering"] = clusterTime.TotalSeconds, ["total"] = total.Elapsed.TotalSeconds,
            },
        };
        File.WriteAllText(Path.Combine(s.Out, "summary.json"), JsonSerializer.Serialize(summary, new JsonSerializerOptions { WriteIndented = true }));
        Log($"total {total.Elapsed.TotalSeconds:F2} s; wrote assignments.npy, images_lists (pickle), objective.tsv, summary.json to {s.Out}");
        return 0;
    }

    /// <summary>The outputs' folder must be one we can write, checked before the clustering runs (not after).</summary>
    static void CheckOutput(string dir)
    {
        var full = Path.GetFullPath(dir);
        for (var p = full; !string.IsNullOrEmpty(p); p = Path.GetDirectoryName(p))
        {
            if (Directory.Exists(p)) break;
            if (File.Exists(p))
                throw new BadInputException(p == full ? $"--out {dir}: is a file; give a folder for the outputs."
                                                      : $"--out {dir}: {p} is a file, so the folder cannot be made there.");
        }
        foreach (var name in OutputNames)
            if (Directory.Exists(Path.Combine(full, name)))
                throw new BadInputException($"--out {dir}: {name} there is a folder; the output file cannot replace it.");
        try
        {
            Directory.CreateDirectory(full);
            var probe = Path.Combine(full, $".write-test-{Environment.ProcessId}");
            File.WriteAllBytes(probe, []);
            File.Delete(probe);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        { throw new BadInputException($"--out {dir}: cannot write there ({e.Message})."); }
    }

    static readonly string[] OutputNames = ["assignments.npy", "images_lists", "objective.tsv", "summary.json"];

    static void Log(string line) => Console.WriteLine(line);

    /// <summary>Runs the clustering with a Spectre progress bar on a terminal, or one plain line per k-means iteration otherwise.</summary>
    static T WithProgress<T>(int iterations, Func<ClusteringRunner.Progress, T> run)
    {
        static string Line(KMeansIteration i, int of) =>
            string.Create(CultureInfo.InvariantCulture, $"k-means iteration {i.Iteration + 1}/{of}: objective {i.Objective:G8}, {i.Splits} splits, {i.Elapsed.TotalSeconds:F2} s");
        if (Console.IsOutputRedirected || !AnsiConsole.Profile.Capabilities.Interactive)
            return run((_, total, step) => { if (step is not null) Console.WriteLine(Line(step, total)); });
        T result = default!;
        AnsiConsole.Progress().Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new ElapsedTimeColumn())
            .Start(ctx =>
            {
                var task = ctx.AddTask(iterations > 1 ? "k-means" : "clustering", maxValue: iterations);
                result = run((done, total, step) =>
                {
                    if (step is not null) task.Description = Markup.Escape(Line(step, total));
                    task.Value = done;
                });
            });
        return result;
    }
}
