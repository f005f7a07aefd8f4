using System.Buffers.Binary;

namespace DeepCluster.Core.IO;

/// <summary>
/// Walks the opcodes of one pickle (protocols 0–5) without building anything, checking that every length-prefixed
/// argument fits in what is left of the data and that a STOP ends it. Razorvine's stream unpickler allocates a
/// buffer of whatever length a <c>BINUNICODE</c> or <c>BINBYTES8</c> claims before reading it, so a corrupt 100-byte
/// file could ask for gigabytes; pickles are therefore scanned first, then unpickled from a byte array
/// holding exactly the scanned pickle.
/// </summary>
internal static class PickleScanner
{
    /// <summary>
    /// Reads one pickle from the current position of <paramref name="stream"/> (seekable), validating it, and leaves
    /// the stream just after its STOP opcode. Returns its bytes, never more than the stream holds.
    /// </summary>
    /// <exception cref="InvalidDataException">Truncated, an unknown opcode, or a length past the end; names <paramref name="path"/>.</exception>
    public static byte[] ReadOne(Stream stream, string path)
    {
        var start = stream.Position;
        var end = FindEnd(stream, path);
        var bytes = new byte[end - start];
        stream.Position = start;
        stream.ReadExactly(bytes);
        return bytes;
    }

    /// <summary>Checks that <paramref name="data"/> is exactly one well-formed pickle (trailing bytes are an error).</summary>
    public static void Validate(byte[] data, string path)
    {
        using var ms = new MemoryStream(data, writable: false);
        var end = FindEnd(ms, path);
        if (end != data.Length) throw new InvalidDataException($"{path}: {data.Length - end} bytes after the end of the pickle.");
    }

    /// <summary>Scans opcodes from the current position; returns the position after STOP.</summary>
    static long FindEnd(Stream s, string path)
    {
        Span<byte> arg = stackalloc byte[8];
        while (true)
        {
            var op = s.ReadByte();
            if (op < 0) throw new InvalidDataException($"{path}: truncated pickle (no STOP opcode).");
            switch (op)
            {
                case '.':
                    return s.Position;
                // No argument.
                case '(' or '0' or '1' or '2' or 'N' or 'R' or 'b' or 'd' or '}' or 'e' or 'l' or ']' or 'o' or 's' or 't'
                    or ')' or 'u' or 'a' or 'Q' or 0x81 or 0x85 or 0x86 or 0x87 or 0x88 or 0x89 or 0x8f or 0x90 or 0x91
                    or 0x92 or 0x93 or 0x94 or 0x97 or 0x98:
                    break;
                // Fixed-size arguments.
                case 'K' or 'h' or 'q' or 0x80 or 0x82:
                    Skip(s, 1, path); break;
                case 'M' or 0x83:
                    Skip(s, 2, path); break;
                case 'J' or 'j' or 'r' or 0x84:
                    Skip(s, 4, path); break;
                case 'G' or 0x95: // BINFLOAT, FRAME (the frame's length only groups the opcodes that follow)
                    Skip(s, 8, path); break;
                // Length-prefixed arguments.
                case 'U' or 'C' or 0x8c or 0x8a:
                    Read(s, arg[..1], path); Skip(s, arg[0], path); break;
                case 'T' or 'X' or 'B' or 0x8b:
                    Read(s, arg[..4], path); Skip(s, BinaryPrimitives.ReadInt32LittleEndian(arg), path); break;
                case 0x8d or 0x8e or 0x96:
                    Read(s, arg, path); Skip(s, BinaryPrimitives.ReadInt64LittleEndian(arg), path); break;
                // Newline-terminated arguments.
                case 'I' or 'L' or 'F' or 'S' or 'V' or 'P' or 'g' or 'p':
                    SkipLine(s, path); break;
                case 'i' or 'c':
                    SkipLine(s, path); SkipLine(s, path); break;
                default:
                    throw new InvalidDataException($"{path}: invalid pickle opcode 0x{op:x2} at offset {s.Position - 1}.");
            }
        }
    }

    static void Read(Stream s, Span<byte> buffer, string path)
    {
        if (s.ReadAtLeast(buffer, buffer.Length, throwOnEndOfStream: false) != buffer.Length)
            throw new InvalidDataException($"{path}: truncated pickle.");
    }

    static void Skip(Stream s, long count, string path)
    {
        if (count < 0 || count > s.Length - s.Position)
            throw new InvalidDataException($"{path}: pickle argument of {count} bytes at offset {s.Position} runs past the end of the data.");
        s.Position += count;
    }

    static void SkipLine(Stream s, string path)
    {
        int b;
        while ((b = s.ReadByte()) != '\n')
            if (b < 0) throw new InvalidDataException($"{path}: truncated pickle (unterminated line).");
    }
}
