using System.Diagnostics;
using System.Runtime.ExceptionServices;
using System.Text;
using System.Text.Json;
using DeepCluster.Core.IO;

namespace DeepCluster.Core.Data;

/// <summary>Settings of <see cref="DatasetPacker.Pack"/> (the flags of <c>deepcluster pack</c>).</summary>
public sealed record PackOptions
{
    /// <summary>Images whose shorter side is longer are resized so that it is this long (<c>--max-side</c>); smaller ones are kept as they are.</summary>
    public int MaxSide { get; init; } = PackFormat.DefaultMaxSide;
    /// <summary>How the images are stored (<c>--encoding</c>).</summary>
    public PackEncoding Encoding { get; init; } = PackEncoding.Rgb;
    /// <summary>JPEG quality 1–100 (<c>--quality</c>; only with <see cref="PackEncoding.Jpeg"/>).</summary>
    public int Quality { get; init; } = PackFormat.DefaultQuality;
    /// <summary>Leave out files that cannot be decoded, listing them in the pack's metadata, instead of stopping (<c>--skip-bad-files</c>).</summary>
    public bool SkipBadFiles { get; init; }
    /// <summary>Replace an existing output file (<c>--force</c>).</summary>
    public bool Force { get; init; }
    /// <summary>Decoding threads; 0: one per core (<c>--workers</c>).</summary>
    public int Workers { get; init; }

    /// <summary>Throws <see cref="ArgumentException"/> naming the flag when a value is out of range.</summary>
    public void Validate()
    {
        if (MaxSide < 1) throw new ArgumentException($"--max-side {MaxSide}: must be a positive number of pixels (the largest shorter side, e.g. {PackFormat.DefaultMaxSide}).");
        if (Quality is < 1 or > 100) throw new ArgumentException($"--quality {Quality}: must be from 1 to 100.");
        if (Workers < 0) throw new ArgumentException($"--workers {Workers}: must be 0 (one per core) or more.");
        if (Encoding is not (PackEncoding.Rgb or PackEncoding.Jpeg)) throw new ArgumentException($"--encoding {Encoding}: choose rgb or jpeg.");
    }
}

/// <summary>How far <see cref="DatasetPacker.Pack"/> is: images done (packed or skipped) of the total, and bytes written.</summary>
public readonly record struct PackProgress(int Done, int Total, int Skipped, long Bytes);

/// <summary>What <see cref="DatasetPacker.Pack"/> wrote.</summary>
public sealed record PackResult(string Path, int Images, int Classes, IReadOnlyList<PackFormat.SkippedFile> Skipped, long Bytes, TimeSpan Elapsed);

/// <summary>
/// Writes a pack (<see cref="PackFormat"/>) of an ImageFolder: every image decoded as <see cref="ImageFolder"/> does, resized
/// with torchvision's <c>Resize(max side)</c> (<see cref="Resize"/>, Pillow's antialiased bilinear) when its shorter side
/// is longer than the max side, never upscaled, and stored raw or as JPEG, with its label and its path relative to the
/// folder, in ImageFolder's order. Images are decoded and resized in parallel, a chunk at a time, and written in order.
/// The file appears at its path only when complete (temporary file + rename): a crash or Ctrl+C leaves no half pack.
/// </summary>
public static class DatasetPacker
{
    /// <summary>Packs the ImageFolder <paramref name="dir"/> into <paramref name="outPath"/>.</summary>
    /// <param name="progress">Called on the calling thread after each chunk.</param>
    /// <exception cref="ArgumentException">A bad option (the message names the flag).</exception>
    /// <exception cref="DirectoryNotFoundException"><paramref name="dir"/> does not exist.</exception>
    /// <exception cref="IOException"><paramref name="outPath"/> exists (without <see cref="PackOptions.Force"/>) or is a folder.</exception>
    /// <exception cref="ImageDecodeException">An image cannot be decoded (without <see cref="PackOptions.SkipBadFiles"/>).</exception>
    /// <exception cref="InvalidDataException">No class folder, or no readable image.</exception>
    public static PackResult Pack(string dir, string outPath, PackOptions options, Action<PackProgress>? progress = null,
                                  CancellationToken cancellationToken = default)
    {
        options.Validate();
        var clock = Stopwatch.StartNew();
        if (!Directory.Exists(dir)) throw new DirectoryNotFoundException($"{dir}: image folder not found (DIR: the ImageFolder to pack).");
        if (DatasetSource.IsIdxFolder(dir, "train") || DatasetSource.IsIdxFolder(dir, "t10k"))
            throw new ArgumentException($"{dir}: an MNIST/Fashion-MNIST IDX folder, already read straight from memory; pack takes an ImageFolder.");
        CheckOutput(outPath, options.Force);
        var folder = new ImageFolder(dir, options.SkipBadFiles);
        string Relative(string p) => Path.GetRelativePath(dir, p).Replace(Path.DirectorySeparatorChar, '/');
        var skipped = folder.SkippedFiles.Select((f, i) => new PackFormat.SkippedFile(Relative(f), folder.SkipReasons[i])).ToList();

        int workers = options.Workers > 0 ? options.Workers : Environment.ProcessorCount;
        int chunk = Math.Max(16, workers * 8);
        var records = new List<PackFormat.Record>(folder.Count);
        var kept = new List<int>(folder.Count);
        using var file = new AtomicFile(outPath);
        var stream = file.Stream;
        stream.Write(new byte[PackFormat.HeaderBytes]);
        var done = new (byte[]? Bytes, int Width, int Height, ImageDecodeException? Error)[chunk];
        var parallel = new ParallelOptions { MaxDegreeOfParallelism = workers, CancellationToken = cancellationToken };
        for (int start = 0; start < folder.Count; start += chunk)
        {
            int n = Math.Min(chunk, folder.Count - start);
            Parallel.For(0, n, parallel, j => done[j] = Prepare(folder.Paths[start + j], options));
            for (int j = 0; j < n; j++)
            {
                var (bytes, w, h, error) = done[j];
                done[j] = default;
                if (error is not null)
                {
                    // The first bad file in dataset order, whatever the threads' timing.
                    if (!options.SkipBadFiles) ExceptionDispatchInfo.Capture(error).Throw();
                    skipped.Add(new(Relative(folder.Paths[start + j]), error.Message[(error.Origin.Length + 2)..]));
                    continue;
                }
                records.Add(new PackFormat.Record(stream.Position, bytes!.Length, 0, 0, w, h, folder.Labels[start + j]));
                kept.Add(start + j);
                stream.Write(bytes);
            }
            progress?.Invoke(new PackProgress(start + n, folder.Count, skipped.Count - folder.SkippedFiles.Count, stream.Position));
        }
        if (records.Count == 0)
            throw new InvalidDataException($"{dir}: no readable image to pack ({skipped.Count} bad files skipped).");

        for (int i = 0; i < records.Count; i++)
        {
            var path = Encoding.UTF8.GetBytes(Relative(folder.Paths[kept[i]]));
            records[i] = records[i] with { PathOffset = stream.Position, PathLength = path.Length };
            stream.Write(path);
        }
        stream.Write(new byte[(8 - stream.Position % 8) % 8]);
        long recordsOffset = stream.Position;
        var table = new byte[PackFormat.RecordBytes];
        foreach (var r in records) { r.Write(table); stream.Write(table); }
        var metadata = JsonSerializer.SerializeToUtf8Bytes(new PackFormat.Metadata
        {
            Classes = folder.Classes.ToArray(),
            Source = Path.GetFullPath(dir),
            MaxSide = options.MaxSide,
            Encoding = options.Encoding == PackEncoding.Rgb ? "rgb" : "jpeg",
            Quality = options.Encoding == PackEncoding.Jpeg ? options.Quality : null,
            Skipped = skipped.ToArray(),
            Created = DateTime.UtcNow.ToString("yyyy-MM-ddTHH:mm:ssZ", System.Globalization.CultureInfo.InvariantCulture),
        }, PackFormat.Json);
        long metadataOffset = stream.Position;
        stream.Write(metadata);
        var header = new PackFormat.Header(PackFormat.Version, options.Encoding, records.Count, recordsOffset, metadataOffset,
                                           metadata.Length, stream.Position, options.MaxSide,
                                           options.Encoding == PackEncoding.Jpeg ? options.Quality : 0);
        var head = new byte[PackFormat.HeaderBytes];
        header.Write(head);
        long length = stream.Position;
        stream.Position = 0;
        stream.Write(head);
        cancellationToken.ThrowIfCancellationRequested();
        file.Commit();
        return new PackResult(file.Path, records.Count, folder.Classes.Count, skipped, length, clock.Elapsed);
    }

    /// <summary>
    /// The image at <paramref name="path"/> as <see cref="PackedDataset.Load"/> will return it for a raw pack: decoded,
    /// then <c>Resize(maxSide)</c> when its shorter side is longer than <paramref name="maxSide"/>.
    /// </summary>
    public static RgbImage Packed(RgbImage image, int maxSide)
    {
        if (Math.Min(image.Width, image.Height) <= maxSide) return image;
        var (w, h) = new Resize(maxSide).OutputSize(image.Width, image.Height);
        return PilResampler.Resize(image, w, h);
    }

    static (byte[]? Bytes, int Width, int Height, ImageDecodeException? Error) Prepare(string path, PackOptions options)
    {
        RgbImage image;
        try { image = Packed(ImageCodec.Decode(path), options.MaxSide); }
        catch (ImageDecodeException e) { return (null, 0, 0, e); }
        var bytes = options.Encoding == PackEncoding.Rgb ? image.Pixels : JpegEncoder.Encode(image, options.Quality);
        return (bytes, image.Width, image.Height, null);
    }

    static void CheckOutput(string outPath, bool force)
    {
        if (string.IsNullOrWhiteSpace(outPath)) throw new ArgumentException("OUT: no output file given.");
        if (Directory.Exists(outPath)) throw new IOException($"{outPath}: is a folder; OUT is the pack file to write.");
        if (File.Exists(outPath) && !force) throw new IOException($"{outPath}: already exists; give --force to replace it.");
        for (var p = Path.GetDirectoryName(Path.GetFullPath(outPath)); !string.IsNullOrEmpty(p); p = Path.GetDirectoryName(p))
        {
            if (Directory.Exists(p)) break;
            if (File.Exists(p)) throw new IOException($"{outPath}: {p} is a file, so the pack cannot be written there.");
        }
    }
}
