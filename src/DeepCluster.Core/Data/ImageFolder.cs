namespace DeepCluster.Core.Data;

/// <summary>
/// torchvision's <c>ImageFolder</c>: one sub-folder per class under <see cref="Root"/>; classes sorted by
/// ordinal name (Python <c>sorted()</c>), files found recursively in each class folder (walked like
/// <c>sorted(os.walk(...))</c>, following links), sorted by name, kept when their extension is in
/// <see cref="Extensions"/> (case-insensitive). Samples are class-major in that order.
/// </summary>
public sealed class ImageFolder : IImageDataset
{
    /// <summary>torchvision's IMG_EXTENSIONS.</summary>
    public static IReadOnlyList<string> Extensions { get; } = [".jpg", ".jpeg", ".png", ".ppm", ".bmp", ".pgm", ".tif", ".tiff", ".webp"];

    readonly string[] _paths;

    /// <summary>The dataset root.</summary>
    public string Root { get; }
    /// <inheritdoc/>
    public IReadOnlyList<string> Classes { get; }
    /// <inheritdoc/>
    public int[] Labels { get; }
    /// <summary>Path of each sample.</summary>
    public IReadOnlyList<string> Paths => _paths;
    /// <summary>Files left out because their header could not be read or claims more than
    /// <see cref="ImageCodec.MaxImagePixels"/> (only with <c>skipBadFiles</c>).</summary>
    public IReadOnlyList<string> SkippedFiles { get; }
    /// <summary>Why each of <see cref="SkippedFiles"/> was left out, in the same order.</summary>
    public IReadOnlyList<string> SkipReasons { get; }
    /// <inheritdoc/>
    public int Count => _paths.Length;

    /// <summary>Scans <paramref name="root"/>.</summary>
    /// <param name="root">Folder holding one sub-folder per class.</param>
    /// <param name="skipBadFiles">When true, files whose header SkiaSharp cannot read (not images, unreadable) or
    /// that claim more than <see cref="ImageCodec.MaxImagePixels"/> are left out and listed in <see cref="SkippedFiles"/>; files that only fail later (truncated) are
    /// skipped by <see cref="BatchLoader"/> with its own <c>skipBadFiles</c> option. When false (default),
    /// such files throw <see cref="ImageDecodeException"/> when loaded.</param>
    /// <exception cref="DirectoryNotFoundException">The root does not exist.</exception>
    /// <exception cref="InvalidDataException">No class folder, or a class folder without images.</exception>
    public ImageFolder(string root, bool skipBadFiles = false)
    {
        Root = root;
        if (!Directory.Exists(root)) throw new DirectoryNotFoundException($"ImageFolder: directory not found: {root}");
        var classes = new DirectoryInfo(root).EnumerateDirectories().Select(d => d.Name)
                                             .OrderBy(n => n, StringComparer.Ordinal).ToArray();
        if (classes.Length == 0) throw new InvalidDataException($"ImageFolder: no class folder in {root}");
        var paths = new List<string>();
        var labels = new List<int>();
        for (int c = 0; c < classes.Length; c++)
        {
            var classDir = Path.Combine(root, classes[c]);
            int before = paths.Count;
            foreach (var file in ClassFiles(classDir)) { paths.Add(file); labels.Add(c); }
            if (paths.Count == before)
                throw new InvalidDataException($"ImageFolder: class folder {classDir} holds no file with extension {string.Join(" ", Extensions)}");
        }
        string[] skipped = [], reasons = [];
        if (skipBadFiles)
        {
            var problems = new string?[paths.Count];
            Parallel.For(0, paths.Count, i => problems[i] = ImageCodec.HeaderProblem(paths[i]));
            var ok = problems.Select(p => p is null).ToArray();
            skipped = paths.Where((_, i) => !ok[i]).ToArray();
            reasons = problems.Where(p => p is not null).Select(p => p!).ToArray();
            labels = labels.Where((_, i) => ok[i]).ToList();
            paths = paths.Where((_, i) => ok[i]).ToList();
            if (paths.Count == 0) throw new InvalidDataException($"ImageFolder: no readable image under {root} ({skipped.Length} bad files skipped)");
        }
        Classes = classes;
        _paths = paths.ToArray();
        Labels = labels.ToArray();
        SkippedFiles = skipped;
        SkipReasons = reasons;
    }

    int[]? IImageDataset.Labels => Labels;

    /// <inheritdoc/>
    public RgbImage Load(int index) => ImageCodec.Decode(_paths[index]);

    /// <inheritdoc/>
    public bool TryReadJpeg(int index, ref byte[]? buffer, out int length) => ImageCodec.TryReadJpegFile(_paths[index], ref buffer, out length);

    /// <inheritdoc/>
    public string Describe(int index) => _paths[index];

    /// <summary>True when <paramref name="fileName"/> ends with one of <see cref="Extensions"/>, ignoring case.</summary>
    public static bool HasImageExtension(string fileName)
    {
        foreach (var e in Extensions)
            if (fileName.EndsWith(e, StringComparison.OrdinalIgnoreCase)) return true;
        return false;
    }

    /// <summary>Files of a class folder in torchvision's order: folders sorted by full path, then files by name.</summary>
    static IEnumerable<string> ClassFiles(string classDir)
    {
        var dirs = new List<string>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        void Walk(string d)
        {
            // Follow links like os.walk(followlinks=True), but never loop on a cycle.
            var real = new DirectoryInfo(d).ResolveLinkTarget(true)?.FullName ?? Path.GetFullPath(d);
            if (!seen.Add(real)) return;
            dirs.Add(d);
            foreach (var sub in Directory.EnumerateDirectories(d)) Walk(sub);
        }
        Walk(classDir);
        dirs.Sort(StringComparer.Ordinal);
        foreach (var d in dirs)
            foreach (var f in Directory.EnumerateFiles(d).Where(f => HasImageExtension(Path.GetFileName(f)))
                                       .OrderBy(f => Path.GetFileName(f), StringComparer.Ordinal))
                yield return f;
    }
}
