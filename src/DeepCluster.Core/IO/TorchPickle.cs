using System.Collections;
using System.IO.Compression;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
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
            var previous = StorageUnpickler.Registered(key);
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
    /// <remarks>Every size the file claims (pickle argument lengths, storage element counts, zip entry lengths,
    /// tensor shapes and strides) is checked against the file before anything is allocated for it.</remarks>
    /// <exception cref="InvalidDataException">Unreadable, truncated or not a PyTorch file; names <paramref name="path"/>.</exception>
    public static object Load(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: no such file.", path);
        return Guard(path, () => IsZip(path) ? LoadZip(path) : LoadLegacy(path));
    }

    /// <summary>
    /// Runs <paramref name="read"/>, turning the exceptions that malformed data raises inside the unpickler, TorchSharp
    /// or the caller's own conversions into one <see cref="InvalidDataException"/> naming <paramref name="path"/>.
    /// </summary>
    internal static T Guard<T>(string path, Func<T> read)
    {
        try { return read(); }
        catch (InvalidDataException e) when (e.Message.StartsWith(path, StringComparison.Ordinal)) { throw; }
        catch (Exception e) when (IsDataError(e))
        {
            throw new InvalidDataException($"{path}: not a readable PyTorch file ({e.GetType().Name}: {e.Message}).", e);
        }
    }

    /// <summary>Exceptions that mean "the bytes are not what they should be" (never a missing file or a cancellation).</summary>
    internal static bool IsDataError(Exception e) =>
        e is PickleException or InvalidDataException or InvalidCastException or NullReferenceException
            or IndexOutOfRangeException or ArgumentException or InvalidOperationException or KeyNotFoundException
            or FormatException or NotImplementedException or NotSupportedException or ArithmeticException
            or ExternalException or EndOfStreamException
        || (e is IOException && e is not FileNotFoundException and not DirectoryNotFoundException);

    static object LoadZip(string path)
    {
        using var fs = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        using var zip = new ZipArchive(fs, ZipArchiveMode.Read);
        var pkl = zip.Entries.FirstOrDefault(e => e.FullName.EndsWith("data.pkl", StringComparison.Ordinal)
                                                  && e.FullName.Count(c => c == '/') <= 1)
                  ?? throw new InvalidDataException($"{path}: a zip archive without data.pkl, not a PyTorch file.");
        var prefix = pkl.FullName[..^"data.pkl".Length];
        var pickle = new byte[CheckEntry(pkl, fs.Length, path)];
        using (var s = pkl.Open()) s.ReadExactly(pickle);
        PickleScanner.Validate(pickle, path);
        using var unpickler = new StorageUnpickler();
        var root = unpickler.loads(pickle);

        var storages = new Dictionary<string, Tensor>();
        try
        {
            foreach (var (key, dtype) in unpickler.Storages)
            {
                var entry = zip.GetEntry($"{prefix}data/{key}")
                            ?? throw new InvalidDataException($"{path}: storage {key} has no entry {prefix}data/{key}.");
                var length = CheckEntry(entry, fs.Length, path);
                var count = unpickler.Counts[key];
                using var data = entry.Open();
                storages[key] = ReadStorage(data, length, count, dtype, path, key);
            }
            return Materialize(root, storages, path, 0, new HashSet<object>(ReferenceEqualityComparer.Instance)) ?? throw new InvalidDataException($"{path}: the file holds None.");
        }
        finally
        {
            foreach (var s in storages.Values) s.Dispose();
        }
    }

    /// <summary>
    /// The uncompressed length of a zip entry, after checking it is possible for this file: the compressed bytes lie
    /// in the file, and deflate expands at most 1032-fold (stored entries, as PyTorch writes them, not at all).
    /// </summary>
    static long CheckEntry(ZipArchiveEntry entry, long fileLength, string path)
    {
        long compressed = entry.CompressedLength, length = entry.Length;
        if (compressed < 0 || compressed > fileLength || length < 0 || length > Math.Max(compressed, 1) * 1032 || length > Array.MaxLength)
            throw new InvalidDataException($"{path}: zip entry {entry.FullName} claims {length} bytes ({compressed} compressed) in a file of {fileLength}.");
        return length;
    }

    static object LoadLegacy(string path)
    {
        using var fs = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        using var unpickler = new StorageUnpickler();
        object Next() => unpickler.loads(PickleScanner.ReadOne(fs, path));
        var magic = Next();
        if (magic is not (BigInteger or long) || ToBig(magic) != LegacyMagic)
            throw new InvalidDataException($"{path}: not a PyTorch file (neither a zip archive nor the legacy magic number).");
        var protocol = Next();
        if (protocol is not int p || p != LegacyProtocol)
            throw new InvalidDataException($"{path}: unsupported legacy PyTorch protocol version {protocol}.");
        Next(); // sys_info: endianness and type sizes, little-endian everywhere we run
        var root = Next();
        if (Next() is not ArrayList keyList) throw new InvalidDataException($"{path}: the storage key list is missing.");
        var keys = keyList.Cast<object>().Select(k => k?.ToString() ?? "None").ToList();

        var storages = new Dictionary<string, Tensor>();
        Span<byte> len = stackalloc byte[8];
        try
        {
            foreach (var key in keys)
            {
                if (!unpickler.Storages.TryGetValue(key, out var dtype))
                    throw new InvalidDataException($"{path}: storage {key} is listed but no tensor refers to it.");
                if (storages.ContainsKey(key)) throw new InvalidDataException($"{path}: storage {key} is listed twice.");
                if (fs.ReadAtLeast(len, 8, throwOnEndOfStream: false) != 8)
                    throw new InvalidDataException($"{path}: truncated: storage {key} is missing.");
                var count = BitConverter.ToInt64(len);
                storages[key] = ReadStorage(fs, fs.Length - fs.Position, count, dtype, path, key);
            }
            return Materialize(root, storages, path, 0, new HashSet<object>(ReferenceEqualityComparer.Instance)) ?? throw new InvalidDataException($"{path}: the file holds None.");
        }
        finally
        {
            foreach (var s in storages.Values) s.Dispose();
        }
    }

    static BigInteger ToBig(object o) => o is BigInteger b ? b : new BigInteger((long)o);

    /// <summary>
    /// Reads a storage of <paramref name="count"/> raw little-endian elements from <paramref name="data"/>, of which
    /// <paramref name="available"/> bytes are left; the count is checked against them before the tensor is allocated.
    /// </summary>
    static Tensor ReadStorage(Stream data, long available, long count, ScalarType dtype, string path, string key)
    {
        var size = ElementSize(dtype);
        if (count < 0 || count > available / size)
            throw new InvalidDataException($"{path}: truncated or corrupt: storage {key} claims {count} elements of {size} bytes, {available} bytes are left.");
        var t = empty(count, dtype);
        try
        {
            const long chunk = 1 << 22;
            for (long off = 0; off < count; off += chunk / size)
                using (var part = t.narrow(0, off, Math.Min(chunk / size, count - off)))
                    data.ReadExactly(part.bytes);
            return t;
        }
        catch { t.Dispose(); throw; }
    }

    /// <summary>Bytes per element of a storage dtype, known before anything is allocated.</summary>
    static int ElementSize(ScalarType dtype) => dtype switch
    {
        ScalarType.Float64 or ScalarType.Int64 => 8,
        ScalarType.Float32 or ScalarType.Int32 => 4,
        ScalarType.Float16 or ScalarType.BFloat16 or ScalarType.Int16 => 2,
        _ => 1,
    };

    /// <summary>Deepest nesting of dicts, lists and tuples accepted (a checkpoint nests five deep).</summary>
    const int MaxDepth = 64;

    /// <summary>Replaces every <see cref="PendingTensor"/> in the object graph by a tensor over its storage.</summary>
    static object? Materialize(object? o, Dictionary<string, Tensor> storages, string path, int depth, HashSet<object> seen)
    {
        // A container reached twice (shared through the pickle memo) is done once: no exponential walk over a DAG.
        if (o is Hashtable or ArrayList or object[] && !seen.Add(o)) return o;
        if (depth > MaxDepth) throw new InvalidDataException($"{path}: objects nested more than {MaxDepth} deep (or a cycle).");
        switch (o)
        {
            case PendingTensor p:
                if (!storages.TryGetValue(p.Storage.Key, out var storage))
                    throw new InvalidDataException($"{path}: storage {p.Storage.Key} has no data.");
                var offset = p.Offset + p.Storage.ViewOffset;
                var length = storage.shape[0];
                if (p.Size.Length != p.Stride.Length || p.Size.Any(n => n < 0) || p.Stride.Any(n => n < 0) || offset < 0)
                    throw new InvalidDataException($"{path}: tensor of shape ({string.Join(", ", p.Size)}) has an invalid stride or offset.");
                if (p.Size.Contains(0)) return empty(p.Size, storage.dtype);
                // The last element the view touches, and its element count, both checked without overflow: a view may
                // not reach past its storage, nor hold more elements than it (clone() would allocate them).
                long numel = 1, reach = offset;
                var fits = offset < length;
                foreach (var (n, st) in p.Size.Zip(p.Stride))
                {
                    if (!fits) break;
                    fits = numel <= length / n;
                    numel *= fits ? n : 1;
                    if (fits && n > 1 && st > 0)
                    {
                        fits = st <= (length - 1 - reach) / (n - 1);
                        reach += fits ? (n - 1) * st : 0;
                    }
                }
                if (!fits)
                    throw new InvalidDataException($"{path}: tensor of shape ({string.Join(", ", p.Size)}) reaches past its storage {p.Storage.Key} of {length} elements.");
                using (var view = storage.as_strided(p.Size, p.Stride, offset))
                    return view.clone();
            case Hashtable h:
                foreach (var k in h.Keys.Cast<object>().ToList()) h[k] = Materialize(h[k], storages, path, depth + 1, seen);
                return h;
            case ArrayList l:
                for (var i = 0; i < l.Count; i++) l[i] = Materialize(l[i], storages, path, depth + 1, seen);
                return l;
            case object[] a:
                for (var i = 0; i < a.Length; i++) a[i] = Materialize(a[i], storages, path, depth + 1, seen)!;
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

    /// <summary>
    /// Resolves <c>('storage', type, key, location, size[, view_metadata])</c> persistent ids, in both formats:
    /// the storage bytes come after the pickles (legacy) or in the zip entry <c>data/key</c>.
    /// </summary>
    sealed class StorageUnpickler : Unpickler
    {
        /// <summary>The dtype of each storage referred to.</summary>
        public Dictionary<string, ScalarType> Storages { get; } = new();

        /// <summary>The element count each persistent id claims (used by the zip format).</summary>
        public Dictionary<string, long> Counts { get; } = new();

        /// <summary>The constructor registered (globally) for a <c>module.name</c> key, if any.</summary>
        public static IObjectConstructor? Registered(string key) => objectConstructors.TryGetValue(key, out var c) ? c : null;

        protected override object persistentLoad(object pid)
        {
            if (pid is not object[] { Length: >= 5 } t || t[0] as string != "storage")
                throw new PickleException($"unknown persistent id {pid}");
            var type = t[1] is ClassDictConstructor c ? c.name : t[1]?.ToString() ?? "";
            var dtype = StorageDtype(type);
            var key = t[2]?.ToString() ?? throw new PickleException("storage without a key");
            if (Storages.TryGetValue(key, out var known) && known != dtype)
                throw new PickleException($"storage {key} is used with two dtypes");
            Storages[key] = dtype;
            Counts[key] = System.Convert.ToInt64(t[4]);
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
