using System.IO.Hashing;
using DeepCluster.Core.IO;

namespace DeepCluster.Actors.Features;

/// <summary>
/// Joins the range files of a feature pass into the N×D features file, streamed (a few MB in memory whatever N), and
/// checks each range file on the way: a float32 matrix of its range's rows, the dimension of the others, the size and
/// checksum it was reported with.
/// </summary>
public static class FeatureAssembly
{
    const int Chunk = 1 << 20;

    /// <summary>Writes <paramref name="outPath"/> (atomically) from <paramref name="ranges"/>, which cover 0 .. <paramref name="count"/>-1 in order. Returns D.</summary>
    public static int Write(string outPath, IReadOnlyList<FeatureRangeFile> ranges, int count)
    {
        var at = 0;
        foreach (var r in ranges)
        {
            if (r.Start != at) throw new InvalidOperationException($"feature ranges do not cover the dataset: rows {at}..{r.Start - 1} are missing");
            at = r.End;
        }
        if (at != count) throw new InvalidOperationException($"feature ranges do not cover the dataset: rows {at}..{count - 1} are missing");

        int? dim = null;
        using var output = new AtomicFile(outPath);
        var buffer = new byte[Chunk];
        foreach (var r in ranges)
        {
            using var input = new FileStream(r.Path, FileMode.Open, FileAccess.Read, FileShare.Read, Chunk);
            var header = NpyHeader.Read(input, r.Path);
            if (header.Descr != "<f4" || header.FortranOrder || header.Shape.Length != 2 || header.Shape[0] != r.Count)
                throw new InvalidDataException($"{r.Path}: expected a {r.Count}×D float32 matrix, found {header.Descr} " +
                                               $"of shape ({string.Join(", ", header.Shape)}).");
            var d = checked((int)header.Shape[1]);
            if (dim is null)
            {
                dim = d;
                NpyHeader.Write(output.Stream, "<f4", [count, d]);
            }
            else if (d != dim) throw new InvalidDataException($"{r.Path}: {d} features per image, the other ranges have {dim}.");
            if (input.Length != r.Size || input.Length != header.DataOffset + (long)r.Count * d * sizeof(float))
                throw new InvalidDataException($"{r.Path}: {input.Length} bytes, expected {r.Size}.");
            var hasher = new XxHash3();
            input.Position = 0;
            for (long pos = 0; ;)
            {
                var n = input.Read(buffer, 0, Chunk);
                if (n == 0) break;
                hasher.Append(buffer.AsSpan(0, n));
                var skip = (int)Math.Clamp(header.DataOffset - pos, 0, n);
                output.Stream.Write(buffer, skip, n - skip);
                pos += n;
            }
            if (hasher.GetCurrentHashAsUInt64().ToString("x16") != r.Hash)
                throw new InvalidDataException($"{r.Path}: its content changed after it was written (checksum differs).");
        }
        output.Commit();
        return dim ?? 0;
    }
}
