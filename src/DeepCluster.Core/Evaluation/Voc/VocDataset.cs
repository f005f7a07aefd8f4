using DeepCluster.Core.Data;

namespace DeepCluster.Core.Evaluation.Voc;

/// <summary>
/// A split of Pascal VOC 2007 classification, as the published <c>VOC2007_dataset</c> reads it:
/// <c>ImageSets/Main/{class}_{split}.txt</c> for each of the 20 <see cref="ClassNames"/> (lines <c>name label</c>,
/// label 1 present, −1 absent, 0 difficult) and the images <c>JPEGImages/{name}.jpg</c>. Images are in the order the
/// first class file lists them; <see cref="Targets"/> holds images × 20 labels (1, −1, 0) row-major. A pack
/// <c>JPEGImages.dcpack</c> (<see cref="PackedImageFolder"/>) may stand for <c>JPEGImages/</c> (the folder wins when both
/// exist): the images are then the packed ones, found by file name.
/// </summary>
public sealed class VocDataset : IImageDataset, IDisposable
{
    /// <summary>The 20 VOC classes, in sorted order (the published script sorts the class files by name).</summary>
    public static readonly string[] ClassNames =
    [
        "aeroplane", "bicycle", "bird", "boat", "bottle", "bus", "car", "cat", "chair", "cow",
        "diningtable", "dog", "horse", "motorbike", "person", "pottedplant", "sheep", "sofa", "train", "tvmonitor",
    ];

    readonly string[] names;
    readonly string root;
    readonly PackedImageFolder? pack;

    /// <summary>The split read (<c>train</c>, <c>val</c>, <c>trainval</c> or <c>test</c>).</summary>
    public string Split { get; }
    /// <summary>Image × class labels, row-major: 1 present, −1 absent, 0 difficult.</summary>
    public sbyte[] Targets { get; }
    /// <summary>Number of labels that are 0 (difficult).</summary>
    public int DifficultCount => Targets.Count(t => t == 0);

    public int Count => names.Length;
    public IReadOnlyList<string> Classes => ClassNames;
    public int[]? Labels => null;

    VocDataset(string root, string split, string[] names, sbyte[] targets, PackedImageFolder? pack)
    {
        this.root = root; Split = split; this.names = names; Targets = targets; this.pack = pack;
    }

    /// <summary>The pack the images come from, or null when they are the files of <c>JPEGImages/</c>.</summary>
    public PackedDataset? Pack => pack?.Pack;

    /// <summary>Image <paramref name="index"/>'s name (<c>000005</c>).</summary>
    public string Name(int index) => names[index];

    public string Describe(int index) => pack?.Describe(names[index] + ".jpg") ?? Path.Combine(root, "JPEGImages", names[index] + ".jpg");

    public RgbImage Load(int index) => pack?.Load(names[index] + ".jpg") ?? ImageCodec.Decode(Describe(index));

    /// <summary>Unmaps the pack, if the images come from one.</summary>
    public void Dispose() => pack?.Dispose();

    /// <summary>Reads split <paramref name="split"/> of the VOC folder <paramref name="root"/>.</summary>
    /// <exception cref="DirectoryNotFoundException">No such folder, or it lacks <c>ImageSets/Main</c> or <c>JPEGImages</c> (folder or pack).</exception>
    /// <exception cref="InvalidDataException">A class file is missing, a line is malformed, the class files list different images, an image file is missing
    /// or the pack lacks it, or the pack is damaged (one line naming the file).</exception>
    public static VocDataset Open(string root, string split)
    {
        if (!Directory.Exists(root)) throw new DirectoryNotFoundException($"--vocdir {root}: no such folder.");
        var sets = Path.Combine(root, "ImageSets", "Main");
        if (!Directory.Exists(sets)) throw new DirectoryNotFoundException($"--vocdir {root}: no ImageSets/Main folder (expected the VOC2007 layout).");
        var jpegs = Path.Combine(root, "JPEGImages");
        var packPath = PackedImageFolder.PackPathFor(jpegs);
        if (!Directory.Exists(jpegs) && !File.Exists(packPath))
            throw new DirectoryNotFoundException($"--vocdir {root}: no JPEGImages folder, nor a pack JPEGImages{PackFormat.Extension} (expected the VOC2007 layout).");
        var missing = ClassNames.Where(c => !File.Exists(Path.Combine(sets, $"{c}_{split}.txt"))).ToList();
        if (missing.Count > 0)
            throw new InvalidDataException($"{sets}: no {missing[0]}_{split}.txt" + (missing.Count > 1 ? $" (nor the files of {missing.Count - 1} other class{(missing.Count > 2 ? "es" : "")})" : "") +
                                           $"; split '{split}' needs one file per class of the 20 VOC classes.");
        List<string>? order = null;
        Dictionary<string, int>? index = null;
        sbyte[]? targets = null;
        for (int c = 0; c < ClassNames.Length; c++)
        {
            var file = Path.Combine(sets, $"{ClassNames[c]}_{split}.txt");
            var seen = new HashSet<string>();
            var lines = File.ReadAllLines(file);
            if (order is null)
            {
                order = new List<string>();
                foreach (var (name, _) in Parse(file, lines)) order.Add(name);
                index = new Dictionary<string, int>(StringComparer.Ordinal);
                for (int i = 0; i < order.Count; i++)
                    if (!index.TryAdd(order[i], i)) throw new InvalidDataException($"{file}: image {order[i]} listed twice.");
                if (order.Count == 0) throw new InvalidDataException($"{file}: lists no image.");
                targets = new sbyte[order.Count * ClassNames.Length];
            }
            foreach (var (name, label) in Parse(file, lines))
            {
                if (!index!.TryGetValue(name, out var i))
                    throw new InvalidDataException($"{file}: image {name} is not in {ClassNames[0]}_{split}.txt; the class files of a split must list the same images.");
                if (!seen.Add(name)) throw new InvalidDataException($"{file}: image {name} listed twice.");
                targets![i * ClassNames.Length + c] = label;
            }
            if (seen.Count != order.Count)
                throw new InvalidDataException($"{file}: lists {seen.Count} of the {order.Count} images of {ClassNames[0]}_{split}.txt (e.g. not {order.First(n => !seen.Contains(n))}).");
        }
        if (Directory.Exists(jpegs))
        {
            foreach (var name in order!)
                if (!File.Exists(Path.Combine(jpegs, name + ".jpg")))
                    throw new InvalidDataException($"{Path.Combine(jpegs, name + ".jpg")}: no such image ({ClassNames[0]}_{split}.txt lists it).");
            return new VocDataset(Path.GetFullPath(root), split, order.ToArray(), targets!, null);
        }
        var pack = PackedImageFolder.Open(packPath);
        try
        {
            foreach (var name in order!) pack.IndexOf(name + ".jpg", $"{ClassNames[0]}_{split}.txt lists it");
            return new VocDataset(Path.GetFullPath(root), split, order.ToArray(), targets!, pack);
        }
        catch { pack.Dispose(); throw; }
    }

    static IEnumerable<(string Name, sbyte Label)> Parse(string file, string[] lines)
    {
        for (int n = 0; n < lines.Length; n++)
        {
            var parts = lines[n].Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
            if (parts.Length == 0) continue;
            if (parts.Length != 2 || !int.TryParse(parts[1], out var label) || label is < -1 or > 1)
                throw new InvalidDataException($"{file}:{n + 1}: expected 'name label' with label 1, -1 or 0, got '{lines[n].Trim()}'.");
            yield return (parts[0], (sbyte)label);
        }
    }
}
