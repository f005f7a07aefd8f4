using System.Runtime.InteropServices;
using static TorchSharp.torch;

namespace DeepCluster.Core.IO.Caffe;

/// <summary>
/// A Caffe <c>BlobProto</c> (caffe.proto fields <c>shape</c> = 7, <c>data</c> = 5, <c>double_data</c> = 8, and the
/// deprecated <c>num/channels/height/width</c> = 1–4 of old files): a parameter array of a layer.
/// </summary>
/// <param name="Shape">The dimensions: <c>shape.dim</c>, or the legacy four, or one dimension of all elements.</param>
/// <param name="Data">The float32 elements, little-endian, row-major (a region of the file's bytes when packed).</param>
public sealed record CaffeBlob(long[] Shape, ReadOnlyMemory<byte> Data)
{
    /// <summary>The number of elements.</summary>
    public long Count => Data.Length / sizeof(float);

    /// <summary>The shape without leading dimensions of 1 (old files write a bias as 1×1×1×n, a weight as 1×1×out×in).</summary>
    public long[] SqueezedShape => Shape.SkipWhile(d => d == 1).DefaultIfEmpty(1).ToArray();

    /// <summary>A new CPU float32 tensor of the elements, in <paramref name="shape"/> (same element count).</summary>
    /// <exception cref="InvalidDataException">The shape holds another number of elements.</exception>
    public Tensor ToTensor(params long[] shape)
    {
        if (shape.Any(d => d < 0) || shape.Aggregate(1.0, (a, b) => a * b) != Count)
            throw new InvalidDataException($"a blob of {Count} elements read as ({string.Join(", ", shape)})");
        var t = empty(shape, ScalarType.Float32);
        Data.Span.CopyTo(t.bytes);
        return t;
    }

    /// <summary>Reads a <c>BlobProto</c> message.</summary>
    internal static CaffeBlob Read(ProtoMessageReader r)
    {
        var dims = new List<long>();
        var legacy = new long[4];
        var unpacked = new List<float>();
        ReadOnlyMemory<byte>? packed = null;
        while (r.Next())
        {
            switch (r.Field)
            {
                case 7:
                    var shape = r.Message();
                    while (shape.Next())
                        if (shape.Field == 1) shape.UInt64s(dims); else shape.Skip();
                    break;
                case 5:
                    if (r.Floats(unpacked) is { } region)
                    {
                        if (packed is not null) throw new InvalidDataException("a blob with two data arrays");
                        packed = region;
                    }
                    break;
                case 8: r.Doubles(unpacked); break;
                case >= 1 and <= 4: legacy[r.Field - 1] = r.Int32(); break;
                default: r.Skip(); break;
            }
        }
        ReadOnlyMemory<byte> data;
        if (packed is { } p && unpacked.Count == 0) data = p;
        else
        {
            var all = new List<float>();
            if (packed is { } q) all.AddRange(MemoryMarshal.Cast<byte, float>(q.Span).ToArray());
            all.AddRange(unpacked);
            data = MemoryMarshal.AsBytes(all.ToArray().AsSpan()).ToArray();
        }
        var count = data.Length / sizeof(float);
        long[] dimsOut = dims.Count > 0 ? dims.ToArray()
            : legacy.Any(d => d != 0) ? legacy : [count];
        if (dimsOut.Any(d => d < 0 || d > count) || dimsOut.Aggregate(1.0, (a, b) => a * b) != count)
            throw new InvalidDataException($"a blob of shape ({string.Join(", ", dimsOut)}) holds {count} elements");
        return new CaffeBlob(dimsOut, data);
    }
}
