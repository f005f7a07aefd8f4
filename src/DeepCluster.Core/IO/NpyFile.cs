using System.Runtime.InteropServices;
using TorchSharp;
using static TorchSharp.torch;

namespace DeepCluster.Core.IO;

/// <summary>
/// Reads and writes numpy <c>.npy</c> files (little-endian, C order): float32 matrices (features),
/// int64 vectors (assignments, indices), and tensors of float32/float64/int32/int64.
/// Data is streamed straight into the destination array in chunks, so a 1.6 GB matrix is read once
/// and never buffered twice. Writes are atomic (temporary file, then rename).
/// </summary>
public static class NpyFile
{
    const int ChunkBytes = 1 << 22;

    /// <summary>Reads a 2-D float matrix (<c>&lt;f4</c>, or <c>&lt;f8</c> narrowed to float32), row-major.</summary>
    /// <exception cref="InvalidDataException">Bad magic, dtype, rank, Fortran order or truncated data; names the file.</exception>
    public static (float[] Data, int Rows, int Cols) ReadFloat32Matrix(string path)
    {
        using var fs = OpenRead(path);
        var h = ReadHeader(fs, path, rank: 2);
        var type = NpyType.Parse(h.Descr, path);
        if (type.Kind != 'f') throw WrongDtype(path, h.Descr, "a float32 (or float64) matrix");
        var (rows, cols) = (ToInt(h.Shape[0], path), ToInt(h.Shape[1], path));
        var count = CheckData(fs, h, type, path);
        if (count > Array.MaxLength) throw new InvalidDataException($"{path}: {rows}x{cols} values are too many for a .NET array.");
        var data = new float[count];
        ReadData(fs, h, type, path, (src, done) => Convert(src, type, data.AsSpan((int)done)));
        return (data, rows, cols);
    }

    /// <summary>Reads a 1-D integer vector (<c>&lt;i8</c>, or <c>&lt;i4</c> widened to int64).</summary>
    /// <exception cref="InvalidDataException">Bad magic, dtype, rank, Fortran order or truncated data; names the file.</exception>
    public static long[] ReadInt64(string path)
    {
        using var fs = OpenRead(path);
        var h = ReadHeader(fs, path, rank: 1);
        var type = NpyType.Parse(h.Descr, path);
        if (type.Kind != 'i') throw WrongDtype(path, h.Descr, "an int64 (or int32) vector");
        CheckData(fs, h, type, path);
        var data = new long[ToInt(h.Shape[0], path)];
        ReadData(fs, h, type, path, (src, done) => Convert(src, type, data.AsSpan((int)done)));
        return data;
    }

    /// <summary>Writes a row-major float32 matrix as <c>&lt;f4</c> with shape (rows, cols).</summary>
    public static void WriteFloat32Matrix(string path, ReadOnlySpan<float> data, int rows, int cols)
    {
        if (rows < 0 || cols < 0 || (long)rows * cols != data.Length)
            throw new ArgumentException($"{path}: {data.Length} values do not make a {rows}x{cols} matrix.");
        WriteRaw(path, "<f4", [rows, cols], MemoryMarshal.AsBytes(data), sizeof(float));
    }

    /// <summary>Writes a row-major float32 matrix as <c>&lt;f4</c> with shape (rows, cols).</summary>
    public static void WriteFloat32Matrix(string path, float[] data, int rows, int cols) =>
        WriteFloat32Matrix(path, data.AsSpan(), rows, cols);

    /// <summary>Writes a 1-D <c>&lt;i8</c> vector.</summary>
    public static void WriteInt64(string path, ReadOnlySpan<long> data) =>
        WriteRaw(path, "<i8", [data.Length], MemoryMarshal.AsBytes(data), sizeof(long));

    /// <summary>Writes a 1-D <c>&lt;i8</c> vector.</summary>
    public static void WriteInt64(string path, long[] data) => WriteInt64(path, data.AsSpan());

    /// <summary>
    /// A float32 [N, dim] matrix (features) as a tensor, streamed from disk. Anything else — another dtype, another
    /// rank, Fortran order — is an <see cref="InvalidDataException"/> naming the file and what it holds.
    /// </summary>
    public static Tensor ReadFloat32MatrixTensor(string path)
    {
        var h = ReadHeader(path);
        if (h.Descr != "<f4") throw new InvalidDataException($"{path}: dtype {h.Descr}, expected float32 ('<f4').");
        if (h.Shape.Length != 2)
            throw new InvalidDataException($"{path}: shape ({string.Join(", ", h.Shape)}) has rank {h.Shape.Length}, expected a 2-D [N, dim] matrix.");
        return ReadTensor(path);
    }

    /// <summary>Reads any float32/float64/int32/int64 array (any rank) into a CPU tensor of the same dtype and shape.</summary>
    /// <exception cref="InvalidDataException">Bad magic, unsupported dtype, Fortran order or truncated data; names the file.</exception>
    public static Tensor ReadTensor(string path)
    {
        using var fs = OpenRead(path);
        var h = ReadHeader(fs, path, rank: null);
        var type = NpyType.Parse(h.Descr, path);
        CheckData(fs, h, type, path); // before the allocation: the size claimed by the header must be in the file
        var t = empty(h.Shape, type.ScalarType);
        try
        {
            using var flat = t.view(-1);
            ReadData(fs, h, type, path, (src, done) =>
            {
                using var part = flat.narrow(0, done, src.Length / type.Size);
                src.CopyTo(part.bytes);
            });
            return t;
        }
        catch { t.Dispose(); throw; }
    }

    /// <summary>Writes a tensor (float32/float64/int32/int64, any rank) in C order; it is copied to the CPU first if needed.</summary>
    public static void WriteTensor(string path, Tensor tensor)
    {
        var descr = tensor.dtype switch
        {
            ScalarType.Float32 => "<f4", ScalarType.Float64 => "<f8",
            ScalarType.Int32 => "<i4", ScalarType.Int64 => "<i8",
            _ => throw new ArgumentException($"{path}: cannot write a {tensor.dtype} tensor as .npy (float32, float64, int32, int64 only)."),
        };
        using var scope = NewDisposeScope();
        var flat = tensor.detach().cpu().contiguous().view(-1);
        var size = (int)flat.ElementSize;
        long step = ChunkBytes / size, count = flat.numel();
        using var f = new AtomicFile(path);
        NpyHeader.Write(f.Stream, descr, tensor.shape);
        for (long off = 0; off < count; off += step)
            using (var part = flat.narrow(0, off, Math.Min(step, count - off)))
                f.Stream.Write(part.bytes);
        f.Commit();
    }

    /// <summary>Reads only the header of a .npy file (dtype, order, shape).</summary>
    public static NpyHeader ReadHeader(string path)
    {
        using var fs = OpenRead(path);
        return NpyHeader.Read(fs, path);
    }

    // ---- internals ----

    static FileStream OpenRead(string path) =>
        new(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.SequentialScan);

    static NpyHeader ReadHeader(FileStream fs, string path, int? rank)
    {
        var h = NpyHeader.Read(fs, path);
        if (h.FortranOrder)
            throw new InvalidDataException($"{path}: Fortran-ordered .npy arrays are not supported (save with np.ascontiguousarray).");
        if (rank is { } r && h.Shape.Length != r)
            throw new InvalidDataException($"{path}: expected a {r}-D array, found shape ({string.Join(", ", h.Shape)}).");
        return h;
    }

    /// <summary>
    /// The element count the header claims, after checking that the file holds that many bytes of data: called before
    /// anything is allocated, so a header claiming more than the file holds never costs memory.
    /// </summary>
    static long CheckData(FileStream fs, NpyHeader h, NpyType type, string path)
    {
        var have = fs.Length - h.DataOffset;
        long count = 1;
        foreach (var d in h.Shape)
        {
            if (d < 0 || (d > 0 && count > long.MaxValue / type.Size / d))
                throw new InvalidDataException($"{path}: .npy shape ({string.Join(", ", h.Shape)}) is impossibly large.");
            count *= d;
        }
        var need = count * type.Size;
        if (have < need)
            throw new InvalidDataException($"{path}: truncated .npy data: shape ({string.Join(", ", h.Shape)}) of {h.Descr} needs {need} bytes, the file has {have}.");
        return count;
    }

    /// <summary>Checks the length, then feeds the data in chunks (whole elements) to <paramref name="sink"/>(bytes, elementsDone).</summary>
    static void ReadData(FileStream fs, NpyHeader h, NpyType type, string path, ChunkSink sink)
    {
        var count = CheckData(fs, h, type, path);
        var need = count * type.Size;
        var buffer = new byte[Math.Min(ChunkBytes / type.Size * type.Size, Math.Max(need, type.Size))];
        long done = 0;
        while (done < count)
        {
            var n = (int)Math.Min(buffer.Length / type.Size, count - done);
            var span = buffer.AsSpan(0, n * type.Size);
            fs.ReadExactly(span);
            sink(span, done);
            done += n;
        }
    }

    delegate void ChunkSink(ReadOnlySpan<byte> source, long elementsDone);

    static void Convert(ReadOnlySpan<byte> src, NpyType type, Span<float> dst)
    {
        if (type.Size == 4) MemoryMarshal.Cast<byte, float>(src).CopyTo(dst);
        else
        {
            var d = MemoryMarshal.Cast<byte, double>(src);
            for (var i = 0; i < d.Length; i++) dst[i] = (float)d[i];
        }
    }

    static void Convert(ReadOnlySpan<byte> src, NpyType type, Span<long> dst)
    {
        if (type.Size == 8) MemoryMarshal.Cast<byte, long>(src).CopyTo(dst);
        else
        {
            var d = MemoryMarshal.Cast<byte, int>(src);
            for (var i = 0; i < d.Length; i++) dst[i] = d[i];
        }
    }

    static void WriteRaw(string path, string descr, long[] shape, ReadOnlySpan<byte> data, int elementSize)
    {
        using var f = new AtomicFile(path);
        NpyHeader.Write(f.Stream, descr, shape);
        var step = ChunkBytes / elementSize * elementSize;
        for (var off = 0; off < data.Length; off += step)
            f.Stream.Write(data.Slice(off, Math.Min(step, data.Length - off)));
        f.Commit();
    }

    static int ToInt(long v, string path) =>
        v <= int.MaxValue ? (int)v : throw new InvalidDataException($"{path}: dimension {v} is too large for a .NET array.");

    static InvalidDataException WrongDtype(string path, string descr, string expected) =>
        new($"{path}: .npy dtype '{descr}' where {expected} was expected.");

    /// <summary>A supported numpy dtype: kind ('f' or 'i') and size in bytes.</summary>
    readonly record struct NpyType(char Kind, int Size)
    {
        public ScalarType ScalarType => (Kind, Size) switch
        {
            ('f', 4) => ScalarType.Float32, ('f', 8) => ScalarType.Float64,
            ('i', 4) => ScalarType.Int32, _ => ScalarType.Int64,
        };

        public static NpyType Parse(string descr, string path)
        {
            if (descr.Length == 3 && descr[0] == '>')
                throw new InvalidDataException($"{path}: big-endian .npy dtype '{descr}' is not supported.");
            return descr switch
            {
                "<f4" or "=f4" => new('f', 4), "<f8" or "=f8" => new('f', 8),
                "<i4" or "=i4" => new('i', 4), "<i8" or "=i8" => new('i', 8),
                _ => throw new InvalidDataException($"{path}: unsupported .npy dtype '{descr}' (float32, float64, int32, int64 only)."),
            };
        }
    }
}
