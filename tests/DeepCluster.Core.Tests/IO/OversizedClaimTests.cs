using System.Buffers.Binary;
using System.Text;
using DeepCluster.Core.IO;
using DeepCluster.Core.Native;
using DeepCluster.Core.Tests.Support;
using Xunit.Abstractions;

namespace DeepCluster.Core.Tests.IO;

/// <summary>
/// Small files that claim huge sizes. Each reader used to allocate what the file claimed before checking it against
/// the file (a 4 TB storage, a 64 TB tensor, a 400 MB matrix, a 256 MB string); now each is a clear
/// <see cref="InvalidDataException"/> naming the file, with nothing of the claimed size allocated.
/// </summary>
public class OversizedClaimTests(ITestOutputHelper output)
{
    static InvalidDataException Refused(string path, Action read, long maxManagedBytes = 1 << 20)
    {
        var before = GC.GetAllocatedBytesForCurrentThread();
        var e = Assert.Throws<InvalidDataException>(read);
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < maxManagedBytes, "allocated what the file claims");
        Assert.StartsWith(path, e.Message);
        return e;
    }

    [Fact]
    public void LegacyCheckpointStorageClaimingTerabytes()
    {
        TorchRuntime.EnsureLoaded();
        using var dir = new TempDir();
        var path = dir.File("legacy.pth");
        PythonPeer.Run("""
            import sys, torch
            torch.save({'a': torch.arange(77.)}, sys.argv[1], _use_new_zipfile_serialization=False)
            """, path);
        var bytes = File.ReadAllBytes(path);
        // The storage's int64 element count follows the last pickle's STOP; 77 floats end the file.
        int at = bytes.Length - 77 * 4 - 8;
        Assert.Equal(77, BinaryPrimitives.ReadInt64LittleEndian(bytes.AsSpan(at)));
        BinaryPrimitives.WriteInt64LittleEndian(bytes.AsSpan(at), 1L << 40);
        File.WriteAllBytes(path, bytes);

        var e = Refused(path, () => StateDictLoader.Load(path));
        output.WriteLine(e.Message);
        Assert.Contains("claims 1099511627776 elements", e.Message);
    }

    [Fact]
    public void ZipCheckpointTensorShapeLargerThanItsStorage()
    {
        TorchRuntime.EnsureLoaded();
        using var dir = new TempDir();
        var path = dir.File("zip.pth");
        PythonPeer.Run("""
            import sys, io, zipfile, pickle, collections, torch
            class S: pass
            class P(pickle.Pickler):
                def persistent_id(self, o):
                    return ('storage', torch.FloatStorage, '0', 'cpu', 3) if isinstance(o, S) else None
            class T:
                def __reduce__(self):
                    return (torch._utils._rebuild_tensor_v2, (S(), 0, (1 << 22, 1 << 22), (1 << 22, 1), False, collections.OrderedDict()))
            buf = io.BytesIO()
            P(buf, protocol=2).dump({'w': T()})
            with zipfile.ZipFile(sys.argv[1], 'w') as z:
                z.writestr('archive/data.pkl', buf.getvalue())
                z.writestr('archive/data/0', bytes(12))
                z.writestr('archive/version', '3\n')
            """, path);

        var e = Refused(path, () => StateDictLoader.Load(path));
        output.WriteLine(e.Message);
        Assert.Contains("reaches past its storage", e.Message);
    }

    static string NpyHeaderOnly(TempDir dir, string descr, string shape)
    {
        var path = dir.File("claims.npy");
        using (var f = File.Create(path)) NpyHeader.Write(f, descr, shape.Split(',').Select(long.Parse).ToArray());
        return path;
    }

    [Fact]
    public void NpyHeaderClaimingMoreThanTheFileHolds()
    {
        TorchRuntime.EnsureLoaded();
        using var dir = new TempDir();
        var path = NpyHeaderOnly(dir, "<f4", "4194304,4194304"); // 64 TB
        output.WriteLine(Refused(path, () => NpyFile.ReadTensor(path)).Message);
        path = NpyHeaderOnly(dir, "<f4", "10000,10000");        // 400 MB
        Refused(path, () => NpyFile.ReadFloat32Matrix(path));
        path = NpyHeaderOnly(dir, "<i8", "50000000");           // 400 MB
        Refused(path, () => NpyFile.ReadInt64(path));
        path = NpyHeaderOnly(dir, "<f4", "4611686018427387904,4"); // overflows 64 bits
        Refused(path, () => NpyFile.ReadTensor(path));
    }

    [Fact]
    public void PickleStringClaimingMoreThanTheFileHolds()
    {
        using var dir = new TempDir();
        var path = dir.File("clusters");
        var pickle = new List<byte> { 0x80, 2, (byte)'X' };
        pickle.AddRange(BitConverter.GetBytes(256 << 20)); // BINUNICODE of 256 MB, then 5 bytes
        pickle.AddRange(Encoding.ASCII.GetBytes("abc."));
        File.WriteAllBytes(path, pickle.ToArray());
        output.WriteLine(Refused(path, () => ClustersLog.Read(path)).Message);
    }
}
