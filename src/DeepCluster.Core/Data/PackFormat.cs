using System.Buffers.Binary;

namespace DeepCluster.Core.Data;

/// <summary>How a pack stores each image's bytes.</summary>
public enum PackEncoding
{
    /// <summary>Raw 8-bit RGB rows (HWC, <see cref="RgbImage.Pixels"/> as is): no decoding at load, one copy.
    /// About 3 bytes a pixel: ~200 KB for a 256×341 image, ~250 GB for ImageNet-1k's 1.28 M images at 256.</summary>
    Rgb = 0,
    /// <summary>JPEG bytes re-encoded by libjpeg-turbo (4:2:0, the given quality) from the resized image: ~10× smaller than
    /// <see cref="Rgb"/> at quality 90, decoded at every load, and lossy (pixels differ from the resized original by the
    /// JPEG error).</summary>
    Jpeg = 1,
}

/// <summary>
/// The layout of a pack file (<c>deepcluster pack DIR OUT</c>; read by <see cref="PackedDataset"/>, written by
/// <see cref="DatasetPacker"/>). All integers little-endian; offsets are from the start of the file.
/// <code>
/// header (64 bytes)
///   0  8  magic "DCPACK\r\n"
///   8  4  version (1)
///  12  4  encoding (0 raw RGB, 1 JPEG; see PackEncoding)
///  16  8  count of images N
///  24  8  offset of the record table (N × 40 bytes)
///  32  8  offset of the metadata (UTF-8 JSON)
///  40  8  length of the metadata
///  48  8  length of the whole file (a shorter file is truncated)
///  56  4  max side (the shorter side of every image is at most this)
///  60  4  JPEG quality (0 for raw)
/// image bytes, one after the other, in dataset order (raw: width × height × 3 bytes; JPEG: a whole JPEG file)
/// UTF-8 relative paths of the originals ('/'-separated), one after the other
/// record table, 8-aligned; record i (40 bytes):
///   0  8  offset of image i's bytes     8  8  their length
///  16  8  offset of its path           24  4  the path's length in bytes
///  28  4  width                        32  4  height         36  4  label (index into the classes)
/// metadata: {"classes": [...], "source": "DIR", "max_side": 256, "encoding": "rgb"|"jpeg", "quality": Q|null,
///            "skipped": [{"path": ..., "reason": ...}], "created": "ISO 8601 UTC"}
/// </code>
/// The header is written last and the file renamed into place only when complete (<see cref="IO.AtomicFile"/>).
/// </summary>
public static class PackFormat
{
    /// <summary>The first 8 bytes of every pack ("DCPACK" then CR LF, so a text-mode transfer shows).</summary>
    public static ReadOnlySpan<byte> Magic => "DCPACK\r\n"u8;

    /// <summary>The format version this build writes and reads.</summary>
    public const int Version = 1;

    /// <summary>The file name ending the commands look for (an eval's <c>train.dcpack</c> / <c>val.dcpack</c>).</summary>
    public const string Extension = ".dcpack";

    /// <summary>Bytes of the header.</summary>
    public const int HeaderBytes = 64;

    /// <summary>Bytes of one record of the table.</summary>
    public const int RecordBytes = 40;

    /// <summary>Default largest shorter side (<c>--max-side</c>): main.py's feature pass resizes to 256.</summary>
    public const int DefaultMaxSide = 256;

    /// <summary>Default JPEG quality of <see cref="PackEncoding.Jpeg"/> (<c>--quality</c>).</summary>
    public const int DefaultQuality = 90;

    /// <summary>The fields of the header.</summary>
    public readonly record struct Header(int Version, PackEncoding Encoding, long Count, long RecordsOffset, long MetadataOffset,
                                         long MetadataLength, long FileLength, int MaxSide, int Quality)
    {
        /// <summary>Writes the header into <paramref name="dest"/> (at least <see cref="HeaderBytes"/> long).</summary>
        public void Write(Span<byte> dest)
        {
            dest[..HeaderBytes].Clear();
            Magic.CopyTo(dest);
            BinaryPrimitives.WriteInt32LittleEndian(dest[8..], Version);
            BinaryPrimitives.WriteInt32LittleEndian(dest[12..], (int)Encoding);
            BinaryPrimitives.WriteInt64LittleEndian(dest[16..], Count);
            BinaryPrimitives.WriteInt64LittleEndian(dest[24..], RecordsOffset);
            BinaryPrimitives.WriteInt64LittleEndian(dest[32..], MetadataOffset);
            BinaryPrimitives.WriteInt64LittleEndian(dest[40..], MetadataLength);
            BinaryPrimitives.WriteInt64LittleEndian(dest[48..], FileLength);
            BinaryPrimitives.WriteInt32LittleEndian(dest[56..], MaxSide);
            BinaryPrimitives.WriteInt32LittleEndian(dest[60..], Quality);
        }

        /// <summary>Reads the header fields (the magic is checked by the caller).</summary>
        public static Header Read(ReadOnlySpan<byte> src) => new(
            BinaryPrimitives.ReadInt32LittleEndian(src[8..]), (PackEncoding)BinaryPrimitives.ReadInt32LittleEndian(src[12..]),
            BinaryPrimitives.ReadInt64LittleEndian(src[16..]), BinaryPrimitives.ReadInt64LittleEndian(src[24..]),
            BinaryPrimitives.ReadInt64LittleEndian(src[32..]), BinaryPrimitives.ReadInt64LittleEndian(src[40..]),
            BinaryPrimitives.ReadInt64LittleEndian(src[48..]), BinaryPrimitives.ReadInt32LittleEndian(src[56..]),
            BinaryPrimitives.ReadInt32LittleEndian(src[60..]));
    }

    /// <summary>One record of the table.</summary>
    public readonly record struct Record(long Offset, long Length, long PathOffset, int PathLength, int Width, int Height, int Label)
    {
        /// <summary>Writes the record into <paramref name="dest"/> (at least <see cref="RecordBytes"/> long).</summary>
        public void Write(Span<byte> dest)
        {
            BinaryPrimitives.WriteInt64LittleEndian(dest, Offset);
            BinaryPrimitives.WriteInt64LittleEndian(dest[8..], Length);
            BinaryPrimitives.WriteInt64LittleEndian(dest[16..], PathOffset);
            BinaryPrimitives.WriteInt32LittleEndian(dest[24..], PathLength);
            BinaryPrimitives.WriteInt32LittleEndian(dest[28..], Width);
            BinaryPrimitives.WriteInt32LittleEndian(dest[32..], Height);
            BinaryPrimitives.WriteInt32LittleEndian(dest[36..], Label);
        }

        /// <summary>Reads a record.</summary>
        public static Record Read(ReadOnlySpan<byte> src) => new(
            BinaryPrimitives.ReadInt64LittleEndian(src), BinaryPrimitives.ReadInt64LittleEndian(src[8..]),
            BinaryPrimitives.ReadInt64LittleEndian(src[16..]), BinaryPrimitives.ReadInt32LittleEndian(src[24..]),
            BinaryPrimitives.ReadInt32LittleEndian(src[28..]), BinaryPrimitives.ReadInt32LittleEndian(src[32..]),
            BinaryPrimitives.ReadInt32LittleEndian(src[36..]));
    }

    /// <summary>The JSON metadata of a pack.</summary>
    public sealed record Metadata
    {
        /// <summary>Class names in label order (ImageFolder's sorted class folders).</summary>
        public required string[] Classes { get; init; }
        /// <summary>The folder that was packed, as given.</summary>
        public string Source { get; init; } = "";
        /// <summary>The largest shorter side.</summary>
        public int MaxSide { get; init; }
        /// <summary>"rgb" or "jpeg".</summary>
        public string Encoding { get; init; } = "rgb";
        /// <summary>JPEG quality, null for raw.</summary>
        public int? Quality { get; init; }
        /// <summary>Files left out (with <c>--skip-bad-files</c>) and why.</summary>
        public SkippedFile[] Skipped { get; init; } = [];
        /// <summary>When the pack was written (UTC, ISO 8601).</summary>
        public string Created { get; init; } = "";
    }

    /// <summary>A file left out of a pack.</summary>
    public sealed record SkippedFile(string Path, string Reason);

    /// <summary>JSON settings of <see cref="Metadata"/> (snake_case names).</summary>
    public static readonly System.Text.Json.JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = System.Text.Json.JsonNamingPolicy.SnakeCaseLower,
        WriteIndented = false,
    };
}
