using System.Runtime.InteropServices;
using DeepCluster.Core.IO;
using static TorchSharp.torch;

namespace DeepCluster.Core.Clustering;

/// <summary>
/// Reads a range of rows of a 2-D float <c>.npy</c> matrix (<c>&lt;f4</c>, or <c>&lt;f8</c> narrowed to float32) in
/// chunks, so that a features file is never loaded whole: memory is one chunk of rows, whatever the file's size.
/// </summary>
public sealed class NpyRowChunks
{
    /// <summary>Default rows per chunk (4096 rows of 4096 floats = 64 MiB).</summary>
    public const int DefaultRowsPerChunk = 4096;

    readonly NpyHeader header;
    readonly int elementSize;

    /// <summary>The file read.</summary>
    public string Path { get; }

    /// <summary>Number of rows (N).</summary>
    public long Rows { get; }

    /// <summary>Number of columns (D).</summary>
    public long Cols { get; }

    /// <summary>Opens the header of <paramref name="path"/> and checks that it is a C-ordered float matrix whose data is all in the file.</summary>
    /// <exception cref="InvalidDataException">Not a .npy file, not a 2-D float32/float64 matrix, Fortran order or truncated; names the file.</exception>
    public NpyRowChunks(string path)
    {
        Path = path;
        header = NpyFile.ReadHeader(path);
        elementSize = header.Descr switch
        {
            "<f4" or "=f4" => 4,
            "<f8" or "=f8" => 8,
            _ => throw new InvalidDataException($"{path}: .npy dtype '{header.Descr}' where a float32 (or float64) matrix was expected."),
        };
        if (header.FortranOrder)
            throw new InvalidDataException($"{path}: Fortran-ordered .npy arrays are not supported (save with np.ascontiguousarray).");
        if (header.Shape.Length != 2)
            throw new InvalidDataException($"{path}: shape ({string.Join(", ", header.Shape)}) has rank {header.Shape.Length}, expected a 2-D [N, dim] matrix.");
        (Rows, Cols) = (header.Shape[0], header.Shape[1]);
        var need = checked(Rows * Cols * elementSize);
        var have = new FileInfo(path).Length - header.DataOffset;
        if (have < need)
            throw new InvalidDataException($"{path}: truncated .npy data: shape ({Rows}, {Cols}) of {header.Descr} needs {need} bytes, the file has {have}.");
    }

    /// <summary>
    /// Calls <paramref name="sink"/>(first row of the chunk, chunk) for consecutive chunks of rows
    /// [<paramref name="start"/>, <paramref name="start"/> + <paramref name="count"/>); each chunk is a float32 CPU tensor
    /// [rows, D] that is only valid during the call (one buffer is reused).
    /// </summary>
    public void ForEachChunk(long start, long count, Action<long, Tensor> sink, int rowsPerChunk = 0)
    {
        if (start < 0 || count < 0 || start + count > Rows)
            throw new ArgumentOutOfRangeException(nameof(start), $"{Path}: rows [{start}, {start + count}) are outside 0..{Rows}.");
        if (count == 0) return;
        long step = rowsPerChunk > 0 ? rowsPerChunk : DefaultRowsPerChunk;
        step = Math.Min(step, count);
        using var fs = new FileStream(Path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.SequentialScan);
        fs.Seek(header.DataOffset + start * Cols * elementSize, SeekOrigin.Begin);
        using var buffer = empty(step, Cols, ScalarType.Float32);
        var raw = elementSize == 8 ? new byte[checked((int)(step * Cols * 8))] : null;
        for (long r0 = 0; r0 < count; r0 += step)
        {
            long b = Math.Min(step, count - r0);
            using var chunk = buffer.narrow(0, 0, b);
            var bytes = checked((int)(b * Cols * elementSize));
            var target = chunk.bytes;                                  // the chunk's own memory (contiguous rows)
            if (raw is null)
                fs.ReadExactly(target);
            else
            {
                fs.ReadExactly(raw.AsSpan(0, bytes));
                var src = MemoryMarshal.Cast<byte, double>(raw.AsSpan(0, bytes));
                var dst = MemoryMarshal.Cast<byte, float>(target);
                for (int i = 0; i < src.Length; i++) dst[i] = (float)src[i];
            }
            sink(start + r0, chunk);
        }
    }
}
