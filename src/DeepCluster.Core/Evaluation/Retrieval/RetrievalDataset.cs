using System.Globalization;
using DeepCluster.Core.Data;

namespace DeepCluster.Core.Evaluation.Retrieval;

/// <summary>
/// One query of an Oxford5k / Paris6k dataset: its name (the <c>gt_files/{name}_query.txt</c> file), the database image
/// it is cropped from, its box (x1 y1 x2 y2 in the image's pixels), and its ground truth: <see cref="Relevant"/> =
/// good ∪ ok and <see cref="Junk"/>, as the <c>_good</c>, <c>_ok</c> and <c>_junk</c> files list them.
/// </summary>
public sealed record RetrievalQuery(string Name, string Image, float[] Box, IReadOnlySet<string> Relevant, IReadOnlySet<string> Junk);

/// <summary>
/// An Oxford Buildings / Paris dataset in the published layout, read as the published <c>Dataset</c> class reads it: the
/// database is every <c>jpg/*.jpg</c>, sorted by name, less the 20 corrupted Paris images it blacklists; the queries are the
/// <c>gt_files/*_query.txt</c> files, sorted by name, each one line <c>image x1 y1 x2 y2</c> (an <c>oxc1_</c> prefix of the
/// image name dropped). The relevant sets are kept as the files list them (as Oxford's <c>compute_ap</c> reads them), so
/// an image the database lacks counts as relevant and never found.
/// </summary>
/// <remarks>
/// A pack <c>jpg.dcpack</c> (<see cref="PackedImageFolder"/>) may stand for <c>jpg/</c> (the folder wins when both
/// exist); its <c>*.jpg</c> images are then the database. The published script resizes each original image so its larger
/// side is <c>--imdim</c> and the query boxes are in the original's pixels, so a pack that resized an image cannot give
/// the published descriptors: such a pack is refused (<see cref="Open"/>), and one packed with a <c>--max-side</c>
/// above every image's shorter side is read (raw RGB: the same pixels as the files, the same mAP).
/// </remarks>
public sealed class RetrievalDataset : IDisposable
{
    /// <summary>Corrupted Paris images, left out of the database as the published script does.</summary>
    public static readonly IReadOnlySet<string> Blacklisted = new HashSet<string>
    {
        "paris_louvre_000136", "paris_louvre_000146", "paris_moulinrouge_000422", "paris_museedorsay_001059",
        "paris_notredame_000188", "paris_pantheon_000284", "paris_pantheon_000960", "paris_pantheon_000974",
        "paris_pompidou_000195", "paris_pompidou_000196", "paris_pompidou_000201", "paris_pompidou_000467",
        "paris_pompidou_000640", "paris_sacrecoeur_000299", "paris_sacrecoeur_000330", "paris_sacrecoeur_000353",
        "paris_triomphe_000662", "paris_triomphe_000833", "paris_triomphe_000863", "paris_triomphe_000867",
    };

    /// <summary>The dataset folder.</summary>
    public string Root { get; }
    /// <summary>Its name (the folder's).</summary>
    public string Name => Path.GetFileName(Root);
    /// <summary>Database image names (no extension), in ranking-index order.</summary>
    public IReadOnlyList<string> Images { get; }
    /// <summary>The queries, sorted by name.</summary>
    public IReadOnlyList<RetrievalQuery> Queries { get; }

    readonly PackedImageFolder? pack;

    RetrievalDataset(string root, string[] images, RetrievalQuery[] queries, PackedImageFolder? pack)
    {
        Root = root; Images = images; Queries = queries; this.pack = pack;
    }

    /// <summary>The pack the images come from, or null when they are the files of <c>jpg/</c>.</summary>
    public PackedDataset? Pack => pack?.Pack;

    /// <summary>Where the images come from, for the log and a run's identity: <c>jpg/</c> or the pack.</summary>
    public string ImageSource => pack is null ? "jpg/" : $"{Path.GetFileName(pack.FilePath)} ({(pack.Pack.Encoding == PackEncoding.Rgb ? "raw RGB" : $"JPEG q{pack.Pack.Metadata.Quality}")})";

    /// <summary>The file of database image <paramref name="name"/> (in the folder layout).</summary>
    public string ImagePath(string name) => Path.Combine(Root, "jpg", name + ".jpg");

    /// <summary>Where database image <paramref name="name"/> comes from, for messages: its file, or the pack and record.</summary>
    public string Describe(string name) => pack?.Describe(name + ".jpg") ?? ImagePath(name);

    /// <summary>Database image <paramref name="name"/>, decoded (from its file or the pack).</summary>
    public RgbImage Load(string name) => pack?.Load(name + ".jpg") ?? ImageCodec.Decode(ImagePath(name));

    /// <summary>Unmaps the pack, if the images come from one.</summary>
    public void Dispose() => pack?.Dispose();

    /// <summary>Reads the dataset at <paramref name="root"/>; <paramref name="flag"/> names the option that gave it in errors.</summary>
    /// <exception cref="DirectoryNotFoundException">No such folder, or no <c>jpg/</c> (nor <c>jpg.dcpack</c>) or <c>gt_files/</c> in it.</exception>
    /// <exception cref="InvalidDataException">No image or no query, a ground-truth file missing or malformed, a query naming an image
    /// the database lacks, a bad box, a query without relevant images, or a damaged pack or one that resized an image
    /// (one line naming the file).</exception>
    public static RetrievalDataset Open(string root, string flag = "--dataset")
    {
        root = Path.GetFullPath(root);
        if (!Directory.Exists(root)) throw new DirectoryNotFoundException($"{flag} {root}: no such folder.");
        var jpg = Path.Combine(root, "jpg");
        var packPath = PackedImageFolder.PackPathFor(jpg);
        var gt = Path.Combine(root, "gt_files");
        if (!Directory.Exists(jpg) && !File.Exists(packPath))
            throw new DirectoryNotFoundException($"{flag} {root}: no jpg folder, nor a pack jpg{PackFormat.Extension} (expected the Oxford5k / Paris6k layout: jpg/ and gt_files/).");
        if (!Directory.Exists(gt)) throw new DirectoryNotFoundException($"{flag} {root}: no gt_files folder (expected the Oxford5k / Paris6k layout: jpg/ and gt_files/).");
        var pack = Directory.Exists(jpg) ? null : PackedImageFolder.Open(packPath);
        try
        {
            var files = pack?.FileNames ?? Directory.EnumerateFiles(jpg, "*.jpg").Select(Path.GetFileName).Select(f => f!);
            var images = files.Where(f => f.EndsWith(".jpg", StringComparison.Ordinal)).Select(f => f[..^4])
                .Where(n => !Blacklisted.Contains(n)).Order(StringComparer.Ordinal).ToArray();
            if (images.Length == 0) throw new InvalidDataException($"{pack?.FilePath ?? jpg}: holds no .jpg image.");
            if (pack is not null) CheckNotResized(pack, images);
            var known = images.ToHashSet(StringComparer.Ordinal);
            var queryFiles = Directory.EnumerateFiles(gt, "*_query.txt").Order(StringComparer.Ordinal).ToArray();
            if (queryFiles.Length == 0) throw new InvalidDataException($"{gt}: holds no *_query.txt file.");
            var queries = queryFiles.Select(f => ReadQuery(f, gt, known, pack?.FilePath)).ToArray();
            return new RetrievalDataset(root, images, queries, pack);
        }
        catch { pack?.Dispose(); throw; }
    }

    /// <summary>
    /// Refuses a pack that may have resized one of <paramref name="images"/>: its stored size is all that is left, so
    /// neither the published resize of the original to <c>--imdim</c> nor the query boxes (in the original's pixels)
    /// could be applied.
    /// </summary>
    static void CheckNotResized(PackedImageFolder pack, string[] images)
    {
        var resized = images.Where(n => pack.MayBeResized(n + ".jpg")).ToList();
        if (resized.Count == 0) return;
        var (w, h) = pack.Pack.SizeOf(pack.IndexOf(resized[0] + ".jpg"));
        throw new InvalidDataException(
            $"{pack.FilePath}: packed with --max-side {pack.Pack.MaxSide}, which may have resized {resized.Count} of its images " +
            $"(e.g. {resized[0]}.jpg, stored {w}×{h}); eval-retrieval needs the original pixels (the query boxes are in the " +
            "original image's coordinates, and every image is resized to --imdim from its original size): pack jpg/ again " +
            "with a --max-side above every image's shorter side (e.g. --max-side 4096).");
    }

    static RetrievalQuery ReadQuery(string file, string gt, HashSet<string> known, string? pack)
    {
        var name = Path.GetFileName(file)[..^"_query.txt".Length];
        var line = File.ReadLines(file).FirstOrDefault(l => l.Trim().Length > 0) ?? "";
        var parts = line.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
        var box = new float[4];
        if (parts.Length != 5 || !Enumerable.Range(0, 4).All(i => float.TryParse(parts[i + 1], NumberStyles.Float, CultureInfo.InvariantCulture, out box[i])))
            throw new InvalidDataException($"{file}: expected one line 'image x1 y1 x2 y2', got '{line.Trim()}'.");
        if (!box.All(float.IsFinite) || box[0] < 0 || box[1] < 0 || box[2] <= box[0] || box[3] <= box[1])
            throw new InvalidDataException($"{file}: bad box {string.Join(' ', parts[1..])} (need 0 ≤ x1 < x2 and 0 ≤ y1 < y2).");
        var image = parts[0].StartsWith("oxc1_", StringComparison.Ordinal) ? parts[0][5..] : parts[0];
        if (!known.Contains(image))
            throw new InvalidDataException($"{file}: query image {image} is not in the database " +
                                           (pack is null ? $"({Path.Combine(Path.GetDirectoryName(gt)!, "jpg", image + ".jpg")}: no such image)." : $"({pack} holds no {image}.jpg)."));
        var relevant = List(gt, name, "good").Union(List(gt, name, "ok")).ToHashSet(StringComparer.Ordinal);
        if (relevant.Count == 0) throw new InvalidDataException($"{Path.Combine(gt, name + "_good.txt")}: query {name} has no good or ok image.");
        return new RetrievalQuery(name, image, box, relevant, List(gt, name, "junk").ToHashSet(StringComparer.Ordinal));
    }

    static IEnumerable<string> List(string gt, string query, string kind)
    {
        var file = Path.Combine(gt, $"{query}_{kind}.txt");
        if (!File.Exists(file)) throw new InvalidDataException($"{file}: no such file (query {query} needs _good, _ok and _junk lists).");
        return File.ReadAllLines(file).Select(l => l.Trim()).Where(l => l.Length > 0);
    }
}
