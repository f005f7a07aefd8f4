using System.Collections;
using System.IO.Compression;
using System.Numerics;
using System.Runtime.CompilerServices;
using Razorvine.Pickle;
using Razorvine.Pickle.Objects;
using TorchSharp.PyBridge;
using static TorchSharp.torch;

namespace DeepCluster.Core.IO;

/// <summary>
/// Reads whatever <c>torch.save</c> wrote (a dict, an OrderedDict state dict, nested lists) into .NET objects:
/// dicts become <see cref="Hashtable"/>, lists <see cref="ArrayList"/>, tuples <c>object[]</c>, tensors CPU
/// <see cref="Tensor"/>s. Both formats: the zip archive of PyTorch 1.6+ (through TorchSharp.PyBridge's unpickler)
/// and the legacy pre-1.6 stream (magic, protocol, sys_info, object pickle, storage keys, raw storages).
/// </summary>
internal static class TorchPickle
{
    /// <summary>The legacy format's first pickle: <c>torch.serialization.MAGIC_NUMBER</c>.</summary>
    static readonly BigInteger LegacyMagic = BigInteger.Parse("119547037146038801333356");
    const int LegacyProtocol = 1001;

    static TorchPickle()
    {
        // Razorvine's constructor registry is global. PyBridge registers its own constructors in its static
        // constructor; run it first, then install ours, which handle legacy storages and hand anything else on.
        RuntimeHelpers.RunClassConstructor(typeof(PyTorchUnpickler).TypeHandle);
        foreach (var name in new[] { "_rebuild_tensor", "_rebuild_tensor_v2" })
        {
            var key = "torch._utils." + name;
            var previous = LegacyUnpickler.Registered(key);
            Unpickler.registerConstructor("torch._utils", name, new RebuildTensor(previous));
        }
        Unpickler.registerConstructor("collections", "OrderedDict", new OrderedDictConstructor());
    }

    /// <summary>True when the file starts with a zip local-file header ("PK\x03\x04").</summary>
    public static bool IsZip(string path)
    {
        using var fs = File.OpenRead(path);
        Span<byte> sig = stackalloc byte[4];
        return fs.ReadAtLeast(sig, 4, throwOnEndOfStream: false) == 4 && sig is [0x50, 0x4b, 0x03, 0x04];
    }

    /// <summary>Loads the object a <c>torch.save</c> file holds.</summary>
    /// <exception cref="InvalidDataException">Unreadable, truncated or not a PyTorch file; names <paramref name="path"/>.</exception>
    public static object Load(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: no such file.", path);
        try
        {
            return IsZip(path) ? LoadZip(path) : LoadLegacy(path);
        }
        catch (InvalidDataException e) when (e.Message.StartsWith(path, StringComparison.Ordinal)) { throw; }
        catch (Exception e) when (e is PickleException or InvalidDataException or InvalidCastException or IOException or NullReferenceException
                                      or IndexOutOfRangeException or ArgumentException or InvalidOperationException
                                      or KeyNotFoundException or FormatException or NotImplementedException or NotSupportedException
                                  && e is not FileNotFoundException)
        {
            throw new InvalidDataException($"{path}: not a readable PyTorch file ({e.GetType().Name}: {e.Message}).", e);
        }
    }

    static object LoadZip(string path)
    {
        using var fs = File.OpenRead(path);
        return PyTorchUnpickler.UnpickleStateDict(fs, leaveOpen: false, skipTensorRead: false);
    }

    static object LoadLegacy(string path)
    {
        using var fs = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        using var unpickler = new LegacyUnpickler();
        var magic = unpickler.load(fs);
        if (magic is not (BigInteger or long) || ToBig(magic) != LegacyMagic)
            throw new InvalidDataException($"{path}: not a PyTorch file (neither a zip archive nor the legacy magic number).");
        var protocol = unpickler.load(fs);
        if (protocol is not int p || p != LegacyProtocol)
            throw new InvalidDataException($"{path}: unsupported legacy PyTorch protocol version {protocol}.");
        unpickler.load(fs); // sys_info: endianness and type sizes, little-endian everywhere we run
        var root = unpickler.load(fs);
        var keys = ((ArrayList)unpickler.load(fs)).Cast<object>().Select(k => k.ToString()!).ToList();

        var storages = new Dictionary<string, Tensor>();
        try
        {
            foreach (var key in keys)
            {
                if (!unpickler.Storages.TryGetValue(key, out var dtype))
                    throw new InvalidDataException($"{path}: storage {key} is listed but no tensor refers to it.");
                storages[key] = ReadStorage(fs, dtype, path, key);
            }
            return Materialize(root, storages, path) ?? throw new InvalidDataException($"{path}: the file holds None.");
        }
        finally
        {
            foreach (var s in storages.Values) s.Dispose();
        }
    }

    static BigInteger ToBig(object o) => o is BigInteger b ? b : new BigInteger((long)o);

    /// <summary>Reads one legacy storage: int64 element count, then the raw little-endian elements.</summary>
    static Tensor ReadStorage(Stream fs, ScalarType dtype, string path, string key)
    {
        Span<byte> len = stackalloc byte[8];
        if (fs.ReadAtLeast(len, 8, throwOnEndOfStream: false) != 8)
            throw new InvalidDataException($"{path}: truncated: storage {key} is missing.");
        var count = BitConverter.ToInt64(len);
        var t = empty(count, dtype);
        var size = (int)t.ElementSize;
        if (count < 0 || fs.Length - fs.Position < count * size)
        {
            t.Dispose();
            throw new InvalidDataException($"{path}: truncated: storage {key} needs {count * size} bytes, {fs.Length - fs.Position} left.");
        }
        const long chunk = 1 << 22;
        for (long off = 0; off < count; off += chunk / size)
            using (var part = t.narrow(0, off, Math.Min(chunk / size, count - off)))
                fs.ReadExactly(part.bytes);
        return t;
    }

    /// <summary>Replaces every <see cref="PendingTensor"/> in the object graph by a tensor over its storage.</summary>
    static object? Materialize(object? o, Dictionary<string, Tensor> storages, string path)
    {
        switch (o)
        {
            case PendingTensor p:
                if (!storages.TryGetValue(p.Storage.Key, out var storage))
                    throw new InvalidDataException($"{path}: storage {p.Storage.Key} has no data.");
                var offset = p.Offset + p.Storage.ViewOffset;
                var numel = p.Size.Aggregate(1L, (a, b) => a * b);
                var reach = numel == 0 ? 0 : offset + p.Size.Zip(p.Stride, (s, st) => (s - 1) * st).Sum() + 1;
                if (offset < 0 || reach > storage.shape[0])
                    throw new InvalidDataException($"{path}: tensor of shape ({string.Join(", ", p.Size)}) reaches past its storage {p.Storage.Key}.");
                using (var view = storage.as_strided(p.Size, p.Stride, offset))
                    return view.clone();
            case Hashtable h:
                foreach (var k in h.Keys.Cast<object>().ToList()) h[k] = Materialize(h[k], storages, path);
                return h;
            case ArrayList l:
                for (var i = 0; i < l.Count; i++) l[i] = Materialize(l[i], storages, path);
                return l;
            case object[] a:
                for (var i = 0; i < a.Length; i++) a[i] = Materialize(a[i], storages, path)!;
                return a;
            default:
                return o;
        }
    }

    internal static ScalarType StorageDtype(string storageType) => storageType switch
    {
        "FloatStorage" => ScalarType.Float32, "DoubleStorage" => ScalarType.Float64, "HalfStorage" => ScalarType.Float16,
        "BFloat16Storage" => ScalarType.BFloat16, "LongStorage" => ScalarType.Int64, "IntStorage" => ScalarType.Int32,
        "ShortStorage" => ScalarType.Int16, "CharStorage" => ScalarType.Int8, "ByteStorage" => ScalarType.Byte,
        "BoolStorage" => ScalarType.Bool,
        _ => throw new NotSupportedException($"unsupported storage type torch.{storageType}"),
    };

    static long[] Longs(object o) => ((object[])o).Select(System.Convert.ToInt64).ToArray();

    /// <summary>A legacy storage reference: key, dtype, and (for old storage views) the offset into the root storage.</summary>
    sealed record LegacyStorage(string Key, ScalarType Dtype, long ViewOffset);

    /// <summary>A tensor whose storage bytes come after the object pickle in the legacy format.</summary>
    sealed record PendingTensor(LegacyStorage Storage, long Offset, long[] Size, long[] Stride);

    /// <summary>Resolves <c>('storage', type, key, location, size[, view_metadata])</c> persistent ids.</summary>
    sealed class LegacyUnpickler : Unpickler
    {
        public Dictionary<string, ScalarType> Storages { get; } = new();

        /// <summary>The constructor registered (globally) for a <c>module.name</c> key, if any.</summary>
        public static IObjectConstructor? Registered(string key) => objectConstructors.TryGetValue(key, out var c) ? c : null;

        protected override object persistentLoad(object pid)
        {
            if (pid is not object[] { Length: >= 5 } t || t[0] as string != "storage")
                throw new PickleException($"unknown persistent id {pid}");
            var type = t[1] is ClassDictConstructor c ? c.name : t[1]?.ToString() ?? "";
            var dtype = StorageDtype(type);
            var key = t[2].ToString()!;
            Storages[key] = dtype;
            long viewOffset = 0;
            if (t.Length > 5 && t[5] is object[] { Length: 3 } view) viewOffset = System.Convert.ToInt64(view[1]);
            return new LegacyStorage(key, dtype, viewOffset);
        }
    }

    /// <summary><c>torch._utils._rebuild_tensor[_v2](storage, offset, size, stride, ...)</c> for legacy storages.</summary>
    sealed class RebuildTensor(IObjectConstructor? next) : IObjectConstructor
    {
        public object construct(object[] args)
        {
            if (args.Length >= 4 && args[0] is LegacyStorage s)
                return new PendingTensor(s, System.Convert.ToInt64(args[1]), Longs(args[2]), Longs(args[3]));
            return next?.construct(args) ?? throw new PickleException("torch._utils._rebuild_tensor with an unknown storage");
        }
    }

    sealed class OrderedDictConstructor : IObjectConstructor
    {
        public object construct(object[] args) => new OrderedDict();
    }

    /// <summary>A pickled <c>collections.OrderedDict</c>; its instance state (a state dict's <c>_metadata</c>) is dropped.</summary>
    internal sealed class OrderedDict : Hashtable
    {
        /// <summary>Called by BUILD with the instance <c>__dict__</c>.</summary>
        public void __setstate__(Hashtable state) { }
    }
}
