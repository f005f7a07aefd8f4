using System.IO.MemoryMappedFiles;
using System.Text;
using System.Text.Json;

namespace DeepCluster.Core.Data;

/// <summary>
/// A pack written by <c>deepcluster pack DIR OUT</c> (<see cref="DatasetPacker"/>; layout in <see cref="PackFormat"/>):
/// an ImageFolder's images, resized once so the shorter side is at most the pack's max side, in one file that is
/// memory-mapped read-only. Same samples, labels, classes and order as <c>new ImageFolder(DIR)</c>;
/// <see cref="Describe"/> names the pack, the index and the original relative path.
/// </summary>
/// <remarks>
/// <see cref="Load"/> allocates only the returned image: a raw pack copies the stored RGB rows into it (no decoding); a
/// JPEG pack decodes the stored bytes with libjpeg-turbo straight from the mapping. It is safe from any number of threads
/// (the mapping is read-only; each load holds a reference on it, so <see cref="Dispose"/> during a load is safe: later
/// loads throw <see cref="ObjectDisposedException"/>). Everything the header and the record table claim is checked
/// against the file's length when it is opened, so a truncated, foreign or crafted file is an
/// <see cref="InvalidDataException"/> naming it, not a crash later.
/// </remarks>
public sealed unsafe class PackedDataset : IImageDataset, IDisposable
{
    readonly MemoryMappedFile _map;
    readonly MemoryMappedViewAccessor _view;
    readonly long _recordsOffset;
    readonly string[] _classes;

    /// <summary>The pack file.</summary>
    public string FilePath { get; }
    /// <inheritdoc/>
    public int Count { get; }
    /// <inheritdoc/>
    public IReadOnlyList<string> Classes => _classes;
    /// <inheritdoc/>
    public int[] Labels { get; }
    int[]? IImageDataset.Labels => Labels;
    /// <summary>How the images are stored.</summary>
    public PackEncoding Encoding { get; }
    /// <summary>The largest shorter side the images were resized to.</summary>
    public int MaxSide { get; }
    /// <summary>The metadata (classes, source folder, files skipped when packing, ...).</summary>
    public PackFormat.Metadata Metadata { get; }
    /// <summary>The byte length of the file.</summary>
    public long FileLength { get; }

    PackedDataset(string path)
    {
        FilePath = path;
        FileInfo info;
        try { info = new FileInfo(path); _ = info.Length; }
        catch (FileNotFoundException) { throw new FileNotFoundException($"{path}: pack file not found.", path); }
        FileLength = info.Length;
        CheckHeaderBytes(path, FileLength);
        // FileShare.Delete: a pack replaced by rename (pack --force) while a run reads it keeps serving the old file.
        _map = MemoryMappedFile.CreateFromFile(new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete),
                                               null, 0, MemoryMappedFileAccess.Read, HandleInheritability.None, leaveOpen: false);
        try
        {
            _view = _map.CreateViewAccessor(0, 0, MemoryMappedFileAccess.Read);
            var header = PackFormat.Header.Read(Span(0, PackFormat.HeaderBytes));
            Check(header);
            Count = (int)header.Count;
            Encoding = header.Encoding;
            MaxSide = header.MaxSide;
            _recordsOffset = header.RecordsOffset;
            Metadata = ReadMetadata(header);
            _classes = Metadata.Classes;
            Labels = new int[Count];
            CheckRecords(header);
        }
        catch
        {
            _view?.Dispose();
            _map.Dispose();
            throw;
        }
    }

    /// <summary>Opens and checks the pack at <paramref name="path"/>.</summary>
    /// <exception cref="FileNotFoundException">No such file.</exception>
    /// <exception cref="InvalidDataException">Not a pack, a pack of another format version, truncated or inconsistent;
    /// the message starts with the path.</exception>
    public static PackedDataset Open(string path) => new(path);

    static void CheckHeaderBytes(string path, long length)
    {
        Span<byte> head = stackalloc byte[PackFormat.HeaderBytes];
        int got;
        using (var f = File.OpenHandle(path)) got = RandomAccess.Read(f, head, 0);
        var magic = PackFormat.Magic;
        bool prefix = got > 0 && head[..Math.Min(got, magic.Length)].SequenceEqual(magic[..Math.Min(got, magic.Length)]);
        if (!prefix)
            throw new InvalidDataException($"{path}: not a deepcluster pack (it does not start with \"DCPACK\"); " +
                                           "give an image folder or a file written by `deepcluster pack DIR OUT`.");
        if (got < PackFormat.HeaderBytes)
            throw new InvalidDataException($"{path}: truncated pack ({length} bytes, shorter than its {PackFormat.HeaderBytes}-byte header).");
    }

    void Check(PackFormat.Header h)
    {
        if (h.Version != PackFormat.Version)
            throw new InvalidDataException($"{FilePath}: pack format version {h.Version}; this build reads version {PackFormat.Version} " +
                                           "(pack the images again with this build's `deepcluster pack`).");
        if (h.FileLength != FileLength)
            throw new InvalidDataException(h.FileLength > FileLength
                ? $"{FilePath}: truncated pack ({FileLength} bytes, its header says {h.FileLength})."
                : $"{FilePath}: corrupt pack ({FileLength} bytes, its header says {h.FileLength}).");
        if (h.Encoding is not (PackEncoding.Rgb or PackEncoding.Jpeg))
            throw new InvalidDataException($"{FilePath}: corrupt pack (unknown image encoding {(int)h.Encoding}).");
        if (h.Count is < 1 or > int.MaxValue || h.MaxSide < 1 ||
            h.RecordsOffset < PackFormat.HeaderBytes || h.RecordsOffset > FileLength ||
            h.Count > (FileLength - h.RecordsOffset) / PackFormat.RecordBytes ||
            h.MetadataOffset < h.RecordsOffset + h.Count * PackFormat.RecordBytes || h.MetadataLength < 2 ||
            h.MetadataLength > FileLength - h.MetadataOffset || h.MetadataLength > int.MaxValue)
            throw new InvalidDataException($"{FilePath}: corrupt pack (its header's counts and offsets do not fit the file).");
    }

    PackFormat.Metadata ReadMetadata(PackFormat.Header h)
    {
        PackFormat.Metadata? meta;
        try { meta = JsonSerializer.Deserialize<PackFormat.Metadata>(Span(h.MetadataOffset, (int)h.MetadataLength), PackFormat.Json); }
        catch (JsonException e) { throw new InvalidDataException($"{FilePath}: corrupt pack metadata ({e.Message}).", e); }
        if (meta?.Classes is not { Length: > 0 } classes || classes.Any(c => c is null))
            throw new InvalidDataException($"{FilePath}: corrupt pack metadata (no class names).");
        return meta;
    }

    void CheckRecords(PackFormat.Header h)
    {
        for (int i = 0; i < Count; i++)
        {
            var r = RecordAt(i);
            bool ok = r.Width > 0 && r.Height > 0 && (long)r.Width * r.Height <= ImageCodec.MaxSupportedPixels &&
                      r.Offset >= PackFormat.HeaderBytes && r.Length > 0 && r.Offset <= h.RecordsOffset - r.Length &&
                      r.PathOffset >= PackFormat.HeaderBytes && r.PathLength >= 0 && r.PathOffset <= h.RecordsOffset - r.PathLength &&
                      (uint)r.Label < (uint)_classes.Length &&
                      (h.Encoding != PackEncoding.Rgb || r.Length == (long)r.Width * r.Height * 3);
            if (!ok) throw new InvalidDataException($"{FilePath}: corrupt pack (record {i} does not fit the file).");
            Labels[i] = r.Label;
        }
    }

    PackFormat.Record RecordAt(int index) => PackFormat.Record.Read(Span(_recordsOffset + (long)index * PackFormat.RecordBytes, PackFormat.RecordBytes));

    /// <summary>A span over the mapping, for use while the dataset is open (not across <see cref="Dispose"/>).</summary>
    ReadOnlySpan<byte> Span(long offset, int length)
    {
        byte* p = null;
        var handle = _view.SafeMemoryMappedViewHandle;
        handle.AcquirePointer(ref p);
        try { return new ReadOnlySpan<byte>(p + _view.PointerOffset + offset, length); }
        finally { handle.ReleasePointer(); }
    }

    /// <inheritdoc/>
    public RgbImage Load(int index)
    {
        if ((uint)index >= (uint)Count) throw new ArgumentOutOfRangeException(nameof(index), $"index {index} outside 0..{Count - 1}");
        byte* p = null;
        var handle = _view.SafeMemoryMappedViewHandle;
        handle.AcquirePointer(ref p);   // a reference on the mapping: Dispose cannot unmap it under this load
        try
        {
            p += _view.PointerOffset;
            var r = PackFormat.Record.Read(new ReadOnlySpan<byte>(p + _recordsOffset + (long)index * PackFormat.RecordBytes, PackFormat.RecordBytes));
            var bytes = new ReadOnlySpan<byte>(p + r.Offset, checked((int)r.Length));
            if (Encoding == PackEncoding.Rgb)
            {
                var pixels = GC.AllocateUninitializedArray<byte>(bytes.Length);
                bytes.CopyTo(pixels);
                return new RgbImage(r.Width, r.Height, pixels);
            }
            var image = TurboJpeg.TryDecode(bytes, FilePath) ?? ImageCodec.Decode(bytes.ToArray(), Describe(index));
            if (image.Width != r.Width || image.Height != r.Height)
                throw new ImageDecodeException(Describe(index), $"decoded {image.Width}x{image.Height}, the pack says {r.Width}x{r.Height}");
            return image;
        }
        finally { handle.ReleasePointer(); }
    }

    /// <summary>The original path of sample <paramref name="index"/>, relative to the packed folder ('/'-separated).</summary>
    public string PathOf(int index)
    {
        if ((uint)index >= (uint)Count) throw new ArgumentOutOfRangeException(nameof(index), $"index {index} outside 0..{Count - 1}");
        var r = RecordAt(index);
        return System.Text.Encoding.UTF8.GetString(Span(r.PathOffset, r.PathLength));
    }

    /// <summary>Every original path, relative to the packed folder, in dataset order.</summary>
    public IReadOnlyList<string> Paths => Enumerable.Range(0, Count).Select(PathOf).ToArray();

    /// <summary>Width and height of sample <paramref name="index"/> as stored.</summary>
    public (int Width, int Height) SizeOf(int index)
    {
        if ((uint)index >= (uint)Count) throw new ArgumentOutOfRangeException(nameof(index), $"index {index} outside 0..{Count - 1}");
        var r = RecordAt(index);
        return (r.Width, r.Height);
    }

    /// <inheritdoc/>
    public string Describe(int index) => $"{FilePath}#{index} ({PathOf(index)})";

    /// <summary>Unmaps the file; loads in progress finish first, later ones throw <see cref="ObjectDisposedException"/>.</summary>
    public void Dispose()
    {
        _view.Dispose();
        _map.Dispose();
    }

    /// <inheritdoc/>
    public override string ToString() =>
        new StringBuilder().Append($"pack {FilePath}: {Count} images, {_classes.Length} classes, shorter side <= {MaxSide}, ")
                           .Append(Encoding == PackEncoding.Rgb ? "raw RGB" : $"JPEG q{Metadata.Quality}").ToString();
}
