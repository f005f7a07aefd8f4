using System.Globalization;

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
public sealed class RetrievalDataset
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

    RetrievalDataset(string root, string[] images, RetrievalQuery[] queries) { Root = root; Images = images; Queries = queries; }

    /// <summary>The file of database image <paramref name="name"/>.</summary>
    public string ImagePath(string name) => Path.Combine(Root, "jpg", name + ".jpg");

    /// <summary>Reads the dataset at <paramref name="root"/>; <paramref name="flag"/> names the option that gave it in errors.</summary>
    /// <exception cref="DirectoryNotFoundException">No such folder, or no <c>jpg/</c> or <c>gt_files/</c> in it.</exception>
    /// <exception cref="InvalidDataException">No image or no query, a ground-truth file missing or malformed, a query naming an image
    /// <c>jpg/</c> lacks, a bad box, or a query without relevant images (one line naming the file).</exception>
    public static RetrievalDataset Open(string root, string flag = "--dataset")
    {
        root = Path.GetFullPath(root);
        if (!Directory.Exists(root)) throw new DirectoryNotFoundException($"{flag} {root}: no such folder.");
        var jpg = Path.Combine(root, "jpg");
        var gt = Path.Combine(root, "gt_files");
        if (!Directory.Exists(jpg)) throw new DirectoryNotFoundException($"{flag} {root}: no jpg folder (expected the Oxford5k / Paris6k layout: jpg/ and gt_files/).");
        if (!Directory.Exists(gt)) throw new DirectoryNotFoundException($"{flag} {root}: no gt_files folder (expected the Oxford5k / Paris6k layout: jpg/ and gt_files/).");
        var images = Directory.EnumerateFiles(jpg, "*.jpg").Select(f => Path.GetFileName(f)[..^4])
            .Where(n => !Blacklisted.Contains(n)).Order(StringComparer.Ordinal).ToArray();
        if (images.Length == 0) throw new InvalidDataException($"{jpg}: holds no .jpg image.");
        var known = images.ToHashSet(StringComparer.Ordinal);
        var queryFiles = Directory.EnumerateFiles(gt, "*_query.txt").Order(StringComparer.Ordinal).ToArray();
        if (queryFiles.Length == 0) throw new InvalidDataException($"{gt}: holds no *_query.txt file.");
        var queries = queryFiles.Select(f => ReadQuery(f, gt, known)).ToArray();
        return new RetrievalDataset(root, images, queries);
    }

    static RetrievalQuery ReadQuery(string file, string gt, HashSet<string> known)
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
            throw new InvalidDataException($"{file}: query image {image} is not in the database ({Path.Combine(Path.GetDirectoryName(gt)!, "jpg", image + ".jpg")}: no such image).");
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
