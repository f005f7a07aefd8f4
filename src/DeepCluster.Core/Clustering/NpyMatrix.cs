using System.Text;
using System.Text.RegularExpressions;
using static TorchSharp.torch;

namespace DeepCluster.Core.Clustering;

/// <summary>
/// Minimal NumPy <c>.npy</c> support for the clustering command: read a C-order little-endian float32 matrix,
/// write float32 matrices and int64 vectors (format version 1.0). Errors are <see cref="InvalidDataException"/>
/// with a one-line message naming the file.
/// </summary>
public static partial class NpyMatrix
{
    const int ChunkFloats = 1 << 22;
    static readonly byte[] Magic = { 0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y' };

    /// <summary>Reads a float32 [rows, cols] array from <paramref name="path"/> into a CPU tensor.</summary>
    public static Tensor ReadFloat32Matrix(string path)
    {
        using var f = File.OpenRead(path);
        var (descr, fortran, shape) = ReadHeader(f, path);
        if (descr != "<f4" && descr != "=f4" && descr != "|f4")
            throw new InvalidDataException($"{path}: dtype {descr}, expected float32 ('<f4').");
        if (shape.Length != 2)
            throw new InvalidDataException($"{path}: shape ({string.Join(", ", shape)}) has rank {shape.Length}, expected a 2-D [N, dim] matrix.");
        if (fortran)
            throw new InvalidDataException($"{path}: Fortran-ordered arrays are not supported (save with np.ascontiguousarray).");
        long bytes = shape[0] * shape[1] * 4;
        if (f.Length - f.Position < bytes)
            throw new InvalidDataException($"{path}: truncated, {f.Length - f.Position} data bytes for shape ({shape[0]}, {shape[1]}).");
        var t = empty(shape[0], shape[1], ScalarType.Float32);
        using var flat = t.view(-1);
        var buffer = new float[Math.Min(ChunkFloats, Math.Max(1, shape[0] * shape[1]))];
        for (long done = 0; done < shape[0] * shape[1];)
        {
            int count = (int)Math.Min(buffer.Length, shape[0] * shape[1] - done);
            var bytesOf = System.Runtime.InteropServices.MemoryMarshal.AsBytes(buffer.AsSpan(0, count));
            f.ReadExactly(bytesOf);
            using var part = tensor(buffer, new long[] { buffer.Length });
            using var dst = flat.narrow(0, done, count);
            using var src = part.narrow(0, 0, count);
            dst.copy_(src);
            done += count;
        }
        return t;
    }

    /// <summary>Writes an int64 vector as a 1-D <c>&lt;i8</c> array.</summary>
    public static void WriteInt64Vector(string path, ReadOnlySpan<long> values)
    {
        using var f = File.Create(path);
        WriteHeader(f, "<i8", $"({values.Length},)");
        f.Write(System.Runtime.InteropServices.MemoryMarshal.AsBytes(values));
    }

    /// <summary>Writes a float32 [rows, cols] tensor (any device) as a C-order <c>&lt;f4</c> array.</summary>
    public static void WriteFloat32Matrix(string path, Tensor matrix)
    {
        if (matrix.dim() != 2 || matrix.dtype != ScalarType.Float32)
            throw new ArgumentException("expected a float32 2-D tensor", nameof(matrix));
        using var cpu = matrix.to(CPU).contiguous();
        using var f = File.Create(path);
        WriteHeader(f, "<f4", $"({cpu.shape[0]}, {cpu.shape[1]})");
        using var flat = cpu.view(-1);
        for (long done = 0; done < flat.shape[0]; done += ChunkFloats)
        {
            using var part = flat.narrow(0, done, Math.Min(ChunkFloats, flat.shape[0] - done));
            f.Write(System.Runtime.InteropServices.MemoryMarshal.AsBytes(part.data<float>().ToArray().AsSpan()));
        }
    }

    static void WriteHeader(Stream f, string descr, string shape)
    {
        var dict = $"{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape}, }}";
        int total = Magic.Length + 2 + 2 + dict.Length + 1;
        int pad = (64 - total % 64) % 64;
        var header = dict + new string(' ', pad) + "\n";
        f.Write(Magic);
        f.WriteByte(1); f.WriteByte(0);
        f.WriteByte((byte)(header.Length & 0xff)); f.WriteByte((byte)(header.Length >> 8));
        f.Write(Encoding.ASCII.GetBytes(header));
    }

    static (string Descr, bool Fortran, long[] Shape) ReadHeader(Stream f, string path)
    {
        var pre = new byte[8];
        if (f.Read(pre, 0, 8) != 8 || !pre.AsSpan(0, 6).SequenceEqual(Magic))
            throw new InvalidDataException($"{path}: not a .npy file (bad magic).");
        int major = pre[6];
        int headerLen;
        if (major == 1) { var b = new byte[2]; f.ReadExactly(b); headerLen = b[0] | b[1] << 8; }
        else if (major is 2 or 3) { var b = new byte[4]; f.ReadExactly(b); headerLen = BitConverter.ToInt32(b); }
        else throw new InvalidDataException($"{path}: unsupported .npy version {major}.{pre[7]}.");
        var hb = new byte[headerLen];
        f.ReadExactly(hb);
        var header = Encoding.Latin1.GetString(hb);
        var descr = DescrRe().Match(header);
        var fortran = FortranRe().Match(header);
        var shape = ShapeRe().Match(header);
        if (!descr.Success || !fortran.Success || !shape.Success)
            throw new InvalidDataException($"{path}: unreadable .npy header {header.Trim()}.");
        var dims = shape.Groups[1].Value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                        .Select(long.Parse).ToArray();
        return (descr.Groups[1].Value, fortran.Groups[1].Value == "True", dims);
    }

    [GeneratedRegex(@"'descr'\s*:\s*'([^']*)'")] private static partial Regex DescrRe();
    [GeneratedRegex(@"'fortran_order'\s*:\s*(True|False)")] private static partial Regex FortranRe();
    [GeneratedRegex(@"'shape'\s*:\s*\(([^)]*)\)")] private static partial Regex ShapeRe();
}
