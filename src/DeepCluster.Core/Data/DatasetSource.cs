namespace DeepCluster.Core.Data;

/// <summary>
/// Opens the dataset a user names on the command line: an ImageFolder (one folder per class), a folder of
/// MNIST/Fashion-MNIST IDX files, or a pack file written by <c>deepcluster pack</c> (<see cref="PackedDataset"/>).
/// <c>auto</c> picks the pack when the path is a file, IDX when the folder holds <c>{split}-images-idx3-ubyte[.gz]</c>,
/// else ImageFolder.
/// </summary>
public static class DatasetSource
{
    /// <summary>Seed of the sample <c>--limit</c> takes from an ImageFolder (fixed, so every run of a limit sees the same images).</summary>
    public const long LimitSeed = 31;

    /// <summary>How many skipped files <see cref="SkippedReport"/> names.</summary>
    const int NamedSkips = 3;

    /// <summary>Opens the dataset at <paramref name="path"/>.</summary>
    /// <param name="limit">
    /// At most this many images. On an IDX folder, the first <paramref name="limit"/> in file order (the benchmark
    /// protocol's fmnist-10k; the files are already in mixed order). On an ImageFolder or a pack, whose files are in class order,
    /// a class-balanced sample drawn with <see cref="LimitSeed"/> (see <see cref="SubsetDataset.ClassBalanced"/>),
    /// kept in dataset order.
    /// </param>
    /// <param name="format">auto, imagefolder, idx or pack (<c>--data-format</c>).</param>
    /// <param name="skipBadFiles">Leave out ImageFolder files whose header cannot be read or claims too many pixels
    /// (listed in <see cref="IImageDataset.SkippedFiles"/>; report them with <see cref="SkippedReport"/>).</param>
    public static IImageDataset Open(string path, string format = "auto", string split = "train", int? limit = null,
                                     bool skipBadFiles = false)
    {
        if (string.IsNullOrWhiteSpace(path)) throw new ArgumentException("DIR: no dataset path given.");
        if (format is not ("auto" or "imagefolder" or "idx" or "pack"))
            throw new ArgumentException($"--data-format {format}: choose auto, imagefolder, idx or pack.");
        if (File.Exists(path) && format is not ("auto" or "pack"))
            throw new ArgumentException($"--data-format {format}: {path} is a file; an {format} dataset is a folder (a file is a pack: --data-format pack or auto).");
        if (format == "pack" && !File.Exists(path))
            throw new FileNotFoundException($"{path}: pack file not found{(Directory.Exists(path) ? " (it is a folder; --data-format auto reads folders)" : "")}.", path);
        if (!File.Exists(path) && !Directory.Exists(path)) throw new DirectoryNotFoundException($"{path}: dataset folder or pack file not found.");
        var kind = format == "auto" ? (File.Exists(path) ? "pack" : IsIdxFolder(path, split) ? "idx" : "imagefolder") : format;
        IImageDataset ds = kind switch
        {
            "idx" => IdxDataset.FromFolder(path, split, limit),
            "pack" => PackedDataset.Open(path),
            _ => new ImageFolder(path, skipBadFiles),
        };
        if (kind is "imagefolder" or "pack" && limit is int n && n < ds.Count) ds = SubsetDataset.ClassBalanced(ds, n, LimitSeed);
        if (ds.Count == 0) throw new InvalidDataException($"{path}: the dataset has no images.");
        return ds;
    }

    public static bool IsIdxFolder(string path, string split) =>
        File.Exists(Path.Combine(path, $"{split}-images-idx3-ubyte")) || File.Exists(Path.Combine(path, $"{split}-images-idx3-ubyte.gz"));

    /// <summary>
    /// One line saying how many files were left out when <paramref name="dataset"/> was opened, naming the first few
    /// and why; null when none were.
    /// </summary>
    public static string? SkippedReport(IImageDataset dataset)
    {
        var files = dataset.SkippedFiles;
        if (files.Count == 0) return null;
        var reasons = dataset.SkipReasons;
        var named = files.Take(NamedSkips).Select((f, i) => i < reasons.Count ? $"{f} ({reasons[i]})" : f);
        var more = files.Count > NamedSkips ? $"; and {files.Count - NamedSkips} more" : "";
        return $"skipped {files.Count} unreadable image file{(files.Count == 1 ? "" : "s")} (--skip-bad-files): {string.Join("; ", named)}{more}";
    }
}
