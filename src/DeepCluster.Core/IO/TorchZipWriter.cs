using System.Collections;
using System.IO.Compression;
using System.Text;
using Razorvine.Pickle;
using static TorchSharp.torch;

namespace DeepCluster.Core.IO;

/// <summary>
/// Writes PyTorch's zip serialization (what <c>torch.save</c> writes since 1.6): <c>model/version</c>,
/// <c>model/data.pkl</c> (the object, each tensor a persistent id pointing at its storage) and <c>model/data/N</c>
/// (raw little-endian storages). Entries are stored uncompressed, as PyTorch stores them: a 430 MB AlexNet
/// checkpoint is written at disk speed instead of deflating it (PyBridge's writer compresses, ~25 MB/s here).
/// The object may nest <see cref="Hashtable"/> (dict), <see cref="ArrayList"/> (list), <c>object[]</c> (tuple),
/// strings, numbers, booleans, null and CPU or GPU tensors.
/// </summary>
public static class TorchZipWriter
{
    static TorchZipWriter()
    {
        Pickler.registerCustomDeconstructor(typeof(TensorRef), new TensorRefDeconstructor());
        Pickler.registerCustomDeconstructor(typeof(EmptyOrderedDict), new EmptyOrderedDictDeconstructor());
        Pickler.registerCustomPickler(typeof(StorageType), new StorageTypePickler());
    }

    public static void Write(Stream stream, object? root)
    {
        using var zip = new ZipArchive(stream, ZipArchiveMode.Create, leaveOpen: true);
        using (var version = zip.CreateEntry("model/version", CompressionLevel.NoCompression).Open())
            version.Write("3\n"u8);
        byte[] pickle;
        using (var pickler = new StoragePickler(zip)) pickle = pickler.dumps(Wrap(root));
        using var data = zip.CreateEntry("model/data.pkl", CompressionLevel.NoCompression).Open();
        data.Write(pickle);
    }

    /// <summary>Replaces tensors by <see cref="TensorRef"/> so only our deconstructor sees them.</summary>
    static object? Wrap(object? o) => o switch
    {
        Tensor t => new TensorRef(t),
        Hashtable h => Rebuild(h),
        ArrayList l => new ArrayList(l.Cast<object?>().Select(Wrap).ToArray()),
        object[] tuple => tuple.Select(Wrap).ToArray(),
        _ => o,
    };

    static Hashtable Rebuild(Hashtable h)
    {
        var copy = new Hashtable();
        foreach (DictionaryEntry e in h) copy[e.Key] = Wrap(e.Value);
        return copy;
    }

    sealed record TensorRef(Tensor Tensor);
    sealed record StorageRef(Tensor Contiguous);
    sealed record StorageType(string Name);
    sealed class EmptyOrderedDict;

    /// <summary><c>torch._utils._rebuild_tensor_v2(storage, offset, size, stride, requires_grad, OrderedDict())</c>.</summary>
    sealed class TensorRefDeconstructor : IObjectDeconstructor
    {
        public string get_module() => "torch._utils";
        public string get_name() => "_rebuild_tensor_v2";
        public object[] deconstruct(object obj)
        {
            var t = ((TensorRef)obj).Tensor;
            var c = t.device_type == TorchSharp.DeviceType.CPU ? t.contiguous() : t.cpu().contiguous();
            return
            [
                new StorageRef(c), 0L,
                c.shape.Select(s => (object)s).ToArray(),
                c.stride().Select(s => (object)s).ToArray(),
                false, new EmptyOrderedDict(),
            ];
        }
    }

    sealed class EmptyOrderedDictDeconstructor : IObjectDeconstructor
    {
        public string get_module() => "collections";
        public string get_name() => "OrderedDict";
        public object[] deconstruct(object obj) => [Array.Empty<object>()];
    }

    /// <summary>The storage classes are pickled as globals: <c>torch.FloatStorage</c>, …</summary>
    sealed class StorageTypePickler : IObjectPickler
    {
        public void pickle(object o, Stream outs, Pickler currentPickler)
        {
            outs.WriteByte(Opcodes.GLOBAL);
            outs.Write(Encoding.ASCII.GetBytes($"torch\n{((StorageType)o).Name}\n"));
        }
    }

    /// <summary>Writes each storage to its own stored entry and pickles its persistent id.</summary>
    sealed class StoragePickler(ZipArchive zip) : Pickler(useMemo: false)
    {
        int count;

        protected override bool persistentId(object pid, out object? newpid)
        {
            if (pid is not StorageRef s) { newpid = null; return false; }
            var key = (count++).ToString();
            using (var entry = zip.CreateEntry($"model/data/{key}", CompressionLevel.NoCompression).Open())
                entry.Write(s.Contiguous.bytes);
            newpid = new object[] { "storage", new StorageType(StorageName(s.Contiguous.dtype)), key, "cpu", s.Contiguous.NumberOfElements };
            return true;
        }

        static string StorageName(ScalarType t) => t switch
        {
            ScalarType.Float32 => "FloatStorage",
            ScalarType.Float64 => "DoubleStorage",
            ScalarType.Float16 => "HalfStorage",
            ScalarType.BFloat16 => "BFloat16Storage",
            ScalarType.Int64 => "LongStorage",
            ScalarType.Int32 => "IntStorage",
            ScalarType.Int16 => "ShortStorage",
            ScalarType.Int8 => "CharStorage",
            ScalarType.Byte => "ByteStorage",
            ScalarType.Bool => "BoolStorage",
            _ => throw new NotSupportedException($"tensors of {t} cannot be saved in PyTorch's format"),
        };
    }
}
