using System.Buffers.Binary;
using System.Runtime.InteropServices;

namespace DeepCluster.Actors.DataLoading;

/// <summary>
/// One training batch as a file on the shared folder: a loader worker on another node writes it, the trainer's node
/// reads it once and deletes it (the batch itself never travels in a remoting message). Layout, little-endian:
/// <c>DCBATCH1</c>, int32 batch number, int32 rank, int64[rank] image shape (N×3×H×W), int64[N] labels, int32[N]
/// dataset indices, then the float32 images (the exact bits the loader made). Written under a temporary name and
/// renamed, without a flush to disk: a batch file is whole or absent, and one left by a crash is worth nothing (the
/// next stream of the experiment removes it).
/// </summary>
public static class BatchFile
{
    static readonly byte[] Magic = "DCBATCH1"u8.ToArray();

    /// <summary>A batch read back: what <see cref="BatchLoaded"/> carries.</summary>
    public sealed record Content(int Number, float[] Images, long[] Shape, long[] Labels, int[] Indices);

    /// <summary>Writes the batch to <paramref name="path"/> (atomically: a temporary file renamed over it).</summary>
    public static void Write(string path, int number, ReadOnlySpan<byte> images, long[] shape, long[] labels, int[] indices)
    {
        long values = shape.Aggregate(1L, (a, d) => a * d);
        if (images.Length != values * sizeof(float))
            throw new ArgumentException($"{path}: {images.Length} image bytes for a shape of {values} floats");
        if (labels.Length != indices.Length || shape.Length == 0 || shape[0] != labels.Length)
            throw new ArgumentException($"{path}: {labels.Length} labels and {indices.Length} indices for a batch of shape [{string.Join(",", shape)}]");
        var dir = Path.GetDirectoryName(Path.GetFullPath(path))!;
        var tmp = Path.Combine(dir, $".{Path.GetFileName(path)}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp");   // AtomicFile.RemoveStale's pattern
        try
        {
            using (var f = new FileStream(tmp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16))
            {
                var head = new byte[8 + 4 + 4 + 8 * shape.Length];
                Magic.CopyTo(head, 0);
                BinaryPrimitives.WriteInt32LittleEndian(head.AsSpan(8), number);
                BinaryPrimitives.WriteInt32LittleEndian(head.AsSpan(12), shape.Length);
                for (var i = 0; i < shape.Length; i++) BinaryPrimitives.WriteInt64LittleEndian(head.AsSpan(16 + 8 * i), shape[i]);
                f.Write(head);
                f.Write(MemoryMarshal.AsBytes(labels.AsSpan()));
                f.Write(MemoryMarshal.AsBytes(indices.AsSpan()));
                f.Write(images);
            }
            File.Move(tmp, path, overwrite: true);
        }
        catch
        {
            try { File.Delete(tmp); } catch (IOException) { /* RemoveStale takes it later */ }
            throw;
        }
    }

    /// <summary>Reads a batch file; a file that is not one, or is cut short, is an <see cref="InvalidDataException"/> naming it.</summary>
    public static Content Read(string path)
    {
        using var f = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        var head = new byte[16];
        Exactly(f, head, path);
        if (!head.AsSpan(0, 8).SequenceEqual(Magic)) throw new InvalidDataException($"{path}: not a batch file");
        var number = BinaryPrimitives.ReadInt32LittleEndian(head.AsSpan(8));
        var rank = BinaryPrimitives.ReadInt32LittleEndian(head.AsSpan(12));
        if (rank is < 1 or > 8) throw new InvalidDataException($"{path}: a batch of rank {rank}");
        var dims = new byte[8 * rank];
        Exactly(f, dims, path);
        var shape = new long[rank];
        for (var i = 0; i < rank; i++) shape[i] = BinaryPrimitives.ReadInt64LittleEndian(dims.AsSpan(8 * i));
        long values = 1;
        foreach (var d in shape) values = d < 0 ? -1 : values * d;
        var n = shape[0];
        if (values < 0 || 16 + 8L * rank + 12 * n + 4 * values != f.Length)
            throw new InvalidDataException($"{path}: {f.Length} bytes for a batch of shape [{string.Join(",", shape)}] (cut short?)");
        var labels = new long[n];
        var indices = new int[n];
        var images = new float[values];
        Exactly(f, MemoryMarshal.AsBytes(labels.AsSpan()), path);
        Exactly(f, MemoryMarshal.AsBytes(indices.AsSpan()), path);
        Exactly(f, MemoryMarshal.AsBytes(images.AsSpan()), path);
        return new Content(number, images, shape, labels, indices);
    }

    static void Exactly(Stream s, Span<byte> into, string path)
    {
        try { s.ReadExactly(into); }
        catch (EndOfStreamException) { throw new InvalidDataException($"{path}: cut short"); }
    }
}
