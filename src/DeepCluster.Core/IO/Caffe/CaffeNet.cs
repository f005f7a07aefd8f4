using Google.Protobuf;

namespace DeepCluster.Core.IO.Caffe;

/// <summary>
/// A caffemodel: Caffe's <c>NetParameter</c> (caffe.proto: <c>name</c> = 1, <c>layer</c> = 100) as <c>Net::ToProto</c>
/// writes it: every layer in order with its name, type, parameters and weight blobs. That is all the mapping needs,
/// so the <c>.prototxt</c> that comes with a released model is not read. Files in the pre-2015 V1 layout
/// (<c>layers</c> = 2) are refused with a hint to upgrade them.
/// </summary>
public sealed record CaffeNet(string Name, IReadOnlyList<CaffeLayer> Layers)
{
    /// <summary>True when <paramref name="path"/> names a caffemodel (by its extension, as Caffe names them).</summary>
    public static bool IsCaffeModel(string path) => path.EndsWith(".caffemodel", StringComparison.OrdinalIgnoreCase);

    /// <summary>True when <paramref name="path"/> names a Caffe network definition (text, no weights).</summary>
    public static bool IsPrototxt(string path) => path.EndsWith(".prototxt", StringComparison.OrdinalIgnoreCase);

    /// <summary>Reads the caffemodel in <paramref name="path"/>.</summary>
    /// <exception cref="FileNotFoundException">No such file.</exception>
    /// <exception cref="InvalidDataException">Not a caffemodel, or a V1 one; names the file.</exception>
    public static CaffeNet Read(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: no such file.", path);
        var length = new FileInfo(path).Length;
        if (length > Array.MaxLength) throw new InvalidDataException($"{path}: {length} bytes, larger than a caffemodel this reader takes (2 GB).");
        var bytes = File.ReadAllBytes(path);
        string name = "";
        var layers = new List<CaffeLayer>();
        var v1 = false;
        try
        {
            var r = new ProtoMessageReader(bytes, 0, bytes.Length);
            while (r.Next())
            {
                switch (r.Field)
                {
                    case 1: name = r.String(); break;
                    case 2: v1 = true; r.Skip(); break;
                    case 100: layers.Add(CaffeLayer.Read(r.Message())); break;
                    default: r.Skip(); break;
                }
            }
        }
        catch (Exception e) when (e is InvalidProtocolBufferException or InvalidDataException or OverflowException
                                      or ArgumentException or IndexOutOfRangeException)
        {
            throw new InvalidDataException($"{path}: not a Caffe model (caffemodel protobuf): {e.Message.TrimEnd('.')}.", e);
        }
        if (v1 && layers.Count == 0)
            throw new InvalidDataException($"{path}: a caffemodel in Caffe's old V1 layout; convert it with Caffe's upgrade_net_proto_binary first.");
        if (layers.Count == 0)
            throw new InvalidDataException($"{path}: not a Caffe model (no layers in it).");
        return new CaffeNet(name, layers);
    }
}
