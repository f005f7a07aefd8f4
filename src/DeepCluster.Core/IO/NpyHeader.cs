using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace DeepCluster.Core.IO;

/// <summary>
/// The header of a .npy file (format versions 1.0, 2.0 and 3.0): magic <c>\x93NUMPY</c>, version,
/// header length, then a Python dict literal <c>{'descr': '&lt;f4', 'fortran_order': False, 'shape': (r, c), }</c>
/// padded with spaces and a newline so the data starts on a 64-byte boundary.
/// </summary>
/// <param name="Descr">The numpy dtype string, e.g. <c>&lt;f4</c>.</param>
/// <param name="FortranOrder">True when the data is column-major.</param>
/// <param name="Shape">The array shape; empty for a scalar.</param>
/// <param name="DataOffset">Byte offset of the first element.</param>
public sealed record NpyHeader(string Descr, bool FortranOrder, long[] Shape, long DataOffset)
{
    static readonly byte[] Magic = [0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y'];
    const int Alignment = 64;

    /// <summary>The number of elements the shape describes.</summary>
    public long Count => Shape.Aggregate(1L, (a, b) => checked(a * b));

    /// <summary>Reads and validates the header; leaves <paramref name="stream"/> at the first data byte.</summary>
    /// <exception cref="InvalidDataException">Not a .npy file, or a header this reader cannot parse; names <paramref name="path"/>.</exception>
    public static NpyHeader Read(Stream stream, string path)
    {
        Span<byte> pre = stackalloc byte[10];
        if (!TryReadExactly(stream, pre[..8]) || !pre[..6].SequenceEqual(Magic))
            throw new InvalidDataException($"{path}: not a .npy file (bad magic; expected \\x93NUMPY).");
        int major = pre[6];
        int headerLen, prefix;
        if (major == 1)
        {
            if (!TryReadExactly(stream, pre.Slice(8, 2))) throw Truncated(path, "header length");
            headerLen = BinaryPrimitives.ReadUInt16LittleEndian(pre.Slice(8, 2));
            prefix = 10;
        }
        else if (major is 2 or 3)
        {
            Span<byte> len = stackalloc byte[4];
            if (!TryReadExactly(stream, len)) throw Truncated(path, "header length");
            var l = BinaryPrimitives.ReadUInt32LittleEndian(len);
            if (l > 1 << 24) throw new InvalidDataException($"{path}: .npy header length {l} is implausible.");
            headerLen = (int)l;
            prefix = 12;
        }
        else throw new InvalidDataException($"{path}: unsupported .npy format version {major}.{pre[7]}.");

        if (stream.CanSeek && stream.Length - stream.Position < headerLen) throw Truncated(path, "header");
        var text = new byte[headerLen];
        if (!TryReadExactly(stream, text)) throw Truncated(path, "header");
        var dict = (major == 3 ? Encoding.UTF8 : Encoding.Latin1).GetString(text);
        return Parse(dict, prefix + headerLen, path);
    }

    static NpyHeader Parse(string dict, long offset, string path)
    {
        var descr = Regex.Match(dict, @"'descr'\s*:\s*'([^']*)'");
        var fortran = Regex.Match(dict, @"'fortran_order'\s*:\s*(True|False)");
        var shape = Regex.Match(dict, @"'shape'\s*:\s*\(([^)]*)\)");
        if (!descr.Success || !fortran.Success || !shape.Success)
            throw new InvalidDataException($"{path}: malformed .npy header: {dict.Trim()}");
        var dims = new List<long>();
        foreach (var part in shape.Groups[1].Value.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            if (!long.TryParse(part.TrimEnd('L'), NumberStyles.None, CultureInfo.InvariantCulture, out var d))
                throw new InvalidDataException($"{path}: malformed .npy shape ({shape.Groups[1].Value}).");
            dims.Add(d);
        }
        return new NpyHeader(descr.Groups[1].Value, fortran.Groups[1].Value == "True", dims.ToArray(), offset);
    }

    /// <summary>Writes a version 1.0 header (2.0 when the dict is longer than 65535 bytes), C order.</summary>
    public static void Write(Stream stream, string descr, ReadOnlySpan<long> shape)
    {
        var dims = shape.Length == 1 ? $"{shape[0]}," : string.Join(", ", shape.ToArray());
        var dict = $"{{'descr': '{descr}', 'fortran_order': False, 'shape': ({dims}), }}";
        var v1 = dict.Length + 1 + 10 <= ushort.MaxValue;
        var prefix = v1 ? 10 : 12;
        var total = prefix + dict.Length + 1;
        var padded = (total + Alignment - 1) / Alignment * Alignment;
        var header = dict + new string(' ', padded - total) + "\n";
        var bytes = new byte[padded];
        Magic.CopyTo(bytes, 0);
        bytes[6] = (byte)(v1 ? 1 : 2);
        bytes[7] = 0;
        if (v1) BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(8), (ushort)header.Length);
        else BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(8), (uint)header.Length);
        Encoding.Latin1.GetBytes(header, bytes.AsSpan(prefix));
        stream.Write(bytes);
    }

    static bool TryReadExactly(Stream s, Span<byte> buffer)
    {
        try { s.ReadExactly(buffer); return true; }
        catch (EndOfStreamException) { return false; }
    }

    static InvalidDataException Truncated(string path, string what) =>
        new($"{path}: truncated .npy file (ends inside the {what}).");
}
