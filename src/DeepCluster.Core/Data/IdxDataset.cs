using System.Buffers.Binary;
using System.IO.Compression;

namespace DeepCluster.Core.Data;

/// <summary>
/// MNIST / Fashion-MNIST in IDX format (<c>{split}-images-idx3-ubyte[.gz]</c> and
/// <c>{split}-labels-idx1-ubyte[.gz]</c>), held in memory. Grey pixels are copied to three channels,
/// so samples are identical to an <see cref="ImageFolder"/> of RGB PNGs written by <see cref="ExportImageFolder"/>.
/// </summary>
public sealed class IdxDataset : IImageDataset
{
    /// <summary>IDX magic number of an unsigned-byte 3-D array (images).</summary>
    public const int ImagesMagic = 2051;
    /// <summary>IDX magic number of an unsigned-byte 1-D array (labels).</summary>
    public const int LabelsMagic = 2049;

    readonly byte[] _pixels;

    /// <summary>The images file read.</summary>
    public string ImagesPath { get; }
    /// <summary>The labels file read.</summary>
    public string LabelsPath { get; }
    /// <summary>Image width (28 for MNIST).</summary>
    public int Width { get; }
    /// <summary>Image height (28 for MNIST).</summary>
    public int Height { get; }
    /// <inheritdoc/>
    public int Count { get; }
    /// <inheritdoc/>
    public int[] Labels { get; }
    /// <inheritdoc/>
    public IReadOnlyList<string> Classes { get; }

    int[]? IImageDataset.Labels => Labels;

    /// <summary>Reads split <paramref name="split"/> ("train" or "t10k") from <paramref name="folder"/>, gzipped or raw.</summary>
    /// <param name="limit">Keep only the first <paramref name="limit"/> samples in file order (e.g. 10 000 for "fmnist-10k").</param>
    public static IdxDataset FromFolder(string folder, string split = "train", int? limit = null)
    {
        if (!Directory.Exists(folder)) throw new DirectoryNotFoundException($"IDX dataset folder not found: {folder}");
        if (split is not ("train" or "t10k")) throw new ArgumentException($"split must be \"train\" or \"t10k\", got \"{split}\"", nameof(split));
        return new IdxDataset(Find(folder, $"{split}-images-idx3-ubyte"), Find(folder, $"{split}-labels-idx1-ubyte"), limit);
    }

    /// <summary>Reads an explicit images file and labels file (each gzipped when the name ends in .gz).</summary>
    public IdxDataset(string imagesPath, string labelsPath, int? limit = null)
    {
        if (limit is <= 0) throw new ArgumentOutOfRangeException(nameof(limit), "limit must be positive");
        ImagesPath = imagesPath; LabelsPath = labelsPath;
        var images = ReadAll(imagesPath, ImagesMagic, 3);
        var labels = ReadAll(labelsPath, LabelsMagic, 1);
        var (n, dims) = Header(images, imagesPath, ImagesMagic, 3);
        var (nl, _) = Header(labels, labelsPath, LabelsMagic, 1);
        if (n != nl) throw new InvalidDataException($"{imagesPath} holds {n} images but {labelsPath} holds {nl} labels");
        Height = dims[0]; Width = dims[1];
        if ((long)Width * Height > ImageCodec.MaxImagePixels)
            throw new InvalidDataException($"{imagesPath}: images of {Height}x{Width} are over the pixel limit of {ImageCodec.MaxImagePixels} (corrupt header?)");
        int size = Height * Width;
        if (images.Length < 16 + (long)n * size) throw new InvalidDataException($"{imagesPath}: truncated, expected {n} images of {Height}x{Width}");
        if (labels.Length < 8 + (long)n) throw new InvalidDataException($"{labelsPath}: truncated, expected {n} labels");
        Count = Math.Min(n, limit ?? n);
        _pixels = images.AsSpan(16, checked(Count * size)).ToArray();
        Labels = new int[Count];
        for (int i = 0; i < Count; i++) Labels[i] = labels[8 + i];
        int classes = n == 0 ? 0 : labels.AsSpan(8, n).ToArray().Max() + 1;
        int digits = Math.Max(1, (classes - 1).ToString().Length);
        Classes = Enumerable.Range(0, classes).Select(c => c.ToString().PadLeft(digits, '0')).ToArray();
    }

    /// <inheritdoc/>
    public RgbImage Load(int index)
    {
        if ((uint)index >= (uint)Count) throw new ArgumentOutOfRangeException(nameof(index), $"index {index} outside 0..{Count - 1}");
        int size = Width * Height;
        return RgbImage.FromGrey(Width, Height, _pixels.AsSpan(index * size, size));
    }

    /// <inheritdoc/>
    public string Describe(int index) => $"{ImagesPath}#{index}";

    /// <summary>
    /// Writes the samples as an ImageFolder: <c>root/{class}/{index:D8}.png</c>, RGB PNGs with grey copied to
    /// three channels, class folders named like <see cref="Classes"/> so their sorted order is the label order.
    /// </summary>
    public void ExportImageFolder(string root)
    {
        foreach (var c in Classes) Directory.CreateDirectory(Path.Combine(root, c));
        Parallel.For(0, Count, new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount }, i =>
            ImageCodec.SavePng(Load(i), Path.Combine(root, Classes[Labels[i]], $"{i:D8}.png")));
    }

    static string Find(string folder, string stem)
    {
        foreach (var name in new[] { stem + ".gz", stem })
        {
            var p = Path.Combine(folder, name);
            if (File.Exists(p)) return p;
        }
        throw new FileNotFoundException($"IDX file not found: {Path.Combine(folder, stem)}[.gz]");
    }

    /// <summary>
    /// The whole file, gunzipped when its name ends in .gz. A gzip stream is read only as far as its IDX header says the
    /// data goes, into a buffer that grows with what is actually read: a gzip bomb cannot make it allocate more.
    /// </summary>
    static byte[] ReadAll(string path, int magic, int rank)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"IDX file not found: {path}", path);
        try
        {
            if (!path.EndsWith(".gz", StringComparison.OrdinalIgnoreCase)) return File.ReadAllBytes(path);
            using var gz = new GZipStream(File.OpenRead(path), CompressionMode.Decompress);
            var head = new byte[4 + 4 * rank];
            var got = gz.ReadAtLeast(head, head.Length, throwOnEndOfStream: false);
            if (got < head.Length) return head[..got]; // Header() reports it
            var (count, dims) = Header(head, path, magic, rank);
            long expected = head.Length + dims.Aggregate((long)count, (a, d) => a > Array.MaxLength || d > Array.MaxLength ? long.MaxValue : a * d);
            if (expected > Array.MaxLength) throw new InvalidDataException($"{path}: header claims {expected} bytes, too many for one array.");
            var buffer = new byte[Math.Min(expected, 1 << 20)];
            head.CopyTo(buffer, 0);
            long have = head.Length;
            while (have < expected)
            {
                if (have == buffer.Length) Array.Resize(ref buffer, (int)Math.Min(expected, 2L * buffer.Length));
                var n = gz.Read(buffer, (int)have, buffer.Length - (int)have);
                if (n == 0) break;
                have += n;
            }
            return have == buffer.Length ? buffer : buffer[..(int)have];
        }
        catch (InvalidDataException e) when (!e.Message.StartsWith(path, StringComparison.Ordinal))
        {
            throw new InvalidDataException($"{path}: not a valid gzip file ({e.Message})", e);
        }
        catch (IOException e) when (e is not FileNotFoundException)
        {
            throw new InvalidDataException($"{path}: cannot read ({e.Message})", e);
        }
    }

    /// <summary>Checks the big-endian magic and returns the item count and remaining dimensions.</summary>
    static (int Count, int[] Dims) Header(byte[] data, string path, int magic, int rank)
    {
        if (data.Length < 4 + 4 * rank) throw new InvalidDataException($"{path}: too short for an IDX header");
        int m = BinaryPrimitives.ReadInt32BigEndian(data);
        if (m != magic) throw new InvalidDataException($"{path}: IDX magic {m}, expected {magic}");
        var dims = new int[rank];
        for (int i = 0; i < rank; i++) dims[i] = BinaryPrimitives.ReadInt32BigEndian(data.AsSpan(4 + 4 * i));
        if (dims.Any(d => d < 0)) throw new InvalidDataException($"{path}: negative dimension in header");
        if (rank > 1 && dims[1..].Any(d => d <= 0)) throw new InvalidDataException($"{path}: empty image size in header");
        return (dims[0], dims[1..]);
    }
}
