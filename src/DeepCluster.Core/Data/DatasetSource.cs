namespace DeepCluster.Core.Data;

/// <summary>
/// Opens the dataset a user names on the command line: an ImageFolder (one folder per class) or a folder of
/// MNIST/Fashion-MNIST IDX files. <c>auto</c> picks IDX when the folder holds <c>{split}-images-idx3-ubyte[.gz]</c>.
/// </summary>
public static class DatasetSource
{
    public static IImageDataset Open(string path, string format = "auto", string split = "train", int? limit = null,
                                     bool skipBadFiles = false)
    {
        if (string.IsNullOrWhiteSpace(path)) throw new ArgumentException("DIR: no dataset path given.");
        if (!Directory.Exists(path)) throw new DirectoryNotFoundException($"{path}: dataset folder not found.");
        var kind = format == "auto" ? (IsIdxFolder(path, split) ? "idx" : "imagefolder") : format;
        IImageDataset ds = kind switch
        {
            "idx" => IdxDataset.FromFolder(path, split, limit),
            "imagefolder" => new ImageFolder(path, skipBadFiles),
            _ => throw new ArgumentException($"--data-format {format}: choose auto, imagefolder or idx."),
        };
        if (kind == "imagefolder" && limit is int n && n < ds.Count) ds = new SubsetDataset(ds, n);
        if (ds.Count == 0) throw new InvalidDataException($"{path}: the dataset has no images.");
        return ds;
    }

    public static bool IsIdxFolder(string path, string split) =>
        File.Exists(Path.Combine(path, $"{split}-images-idx3-ubyte")) || File.Exists(Path.Combine(path, $"{split}-images-idx3-ubyte.gz"));
}

/// <summary>The first <c>count</c> samples of another dataset.</summary>
public sealed class SubsetDataset(IImageDataset inner, int count) : IImageDataset
{
    public int Count { get; } = Math.Min(count, inner.Count);
    public IReadOnlyList<string> Classes => inner.Classes;
    public int[]? Labels { get; } = inner.Labels?.Take(Math.Min(count, inner.Count)).ToArray();
    public RgbImage Load(int index) => index < Count ? inner.Load(index) : throw new ArgumentOutOfRangeException(nameof(index));
    public string Describe(int index) => inner.Describe(index);
}
