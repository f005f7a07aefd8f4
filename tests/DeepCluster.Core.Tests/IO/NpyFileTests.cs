using System.Globalization;
using DeepCluster.Core.IO;
using DeepCluster.Core.Native;
using DeepCluster.Core.Tests.Support;
using TorchSharp;

namespace DeepCluster.Core.Tests.IO;

public class NpyFileTests
{
    static float[] RandomFloats(int n, int seed)
    {
        var rng = new Random(seed);
        return Enumerable.Range(0, n).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray();
    }

    [Fact]
    public void Float32MatrixRoundTrips()
    {
        using var dir = new TempDir();
        var data = RandomFloats(7 * 5, 1);
        NpyFile.WriteFloat32Matrix(dir.File("m.npy"), data, 7, 5);
        var (back, rows, cols) = NpyFile.ReadFloat32Matrix(dir.File("m.npy"));
        Assert.Equal((7, 5), (rows, cols));
        Assert.Equal(data, back);
        Assert.Empty(Directory.GetFiles(dir.Path, "*.tmp"));
    }

    [Fact]
    public void Int64RoundTrips()
    {
        using var dir = new TempDir();
        long[] data = [0, -1, long.MaxValue, long.MinValue, 42];
        NpyFile.WriteInt64(dir.File("i.npy"), data);
        Assert.Equal(data, NpyFile.ReadInt64(dir.File("i.npy")));
    }

    [Fact]
    public void NumpyReadsOurFilesExactly()
    {
        using var dir = new TempDir();
        var m = RandomFloats(6 * 3, 2);
        long[] v = [3, 1, 4, 1, 5, 9, 2, 6];
        NpyFile.WriteFloat32Matrix(dir.File("m.npy"), m, 6, 3);
        NpyFile.WriteInt64(dir.File("v.npy"), v);
        NpyFile.WriteFloat32Matrix(dir.File("m_expected.bin"), m, 6, 3); // same bytes after the header
        var script = """
            import sys, numpy as np
            m = np.load(sys.argv[1]); v = np.load(sys.argv[2])
            assert m.dtype == np.float32 and m.shape == (6, 3) and m.flags['C_CONTIGUOUS'], (m.dtype, m.shape)
            assert v.dtype == np.int64 and v.shape == (8,), (v.dtype, v.shape)
            print(' '.join(repr(float(x)) for x in m.ravel()))
            print(' '.join(str(int(x)) for x in v))
            """;
        var lines = PythonPeer.Run(script, dir.File("m.npy"), dir.File("v.npy")).Trim().Split('\n');
        var pm = lines[0].Split(' ').Select(s => (float)double.Parse(s, CultureInfo.InvariantCulture)).ToArray();
        Assert.Equal(m, pm);
        Assert.Equal(v, lines[1].Split(' ').Select(long.Parse).ToArray());
    }

    [Fact]
    public void WeReadNumpyFilesIncludingV2HeaderFloat64AndInt32()
    {
        using var dir = new TempDir();
        var script = """
            import sys, os, numpy as np
            from numpy.lib import format as fmt
            d = sys.argv[1]
            rng = np.random.default_rng(0)
            m = rng.standard_normal((4, 3)).astype(np.float32)
            np.save(os.path.join(d, 'f32.npy'), m)
            with open(os.path.join(d, 'f32v2.npy'), 'wb') as f:
                fmt.write_array(f, m, version=(2, 0))
            np.save(os.path.join(d, 'f64.npy'), m.astype(np.float64) * 1.5)
            np.save(os.path.join(d, 'i64.npy'), np.array([5, -7, 2**40], dtype=np.int64))
            np.save(os.path.join(d, 'i32.npy'), np.array([5, -7, 2**30], dtype=np.int32))
            np.save(os.path.join(d, 'f32_3d.npy'), np.arange(24, dtype=np.float32).reshape(2, 3, 4))
            print(' '.join(repr(float(x)) for x in m.ravel()))
            """;
        var expected = PythonPeer.Run(script, dir.Path).Trim().Split(' ')
            .Select(s => (float)double.Parse(s, CultureInfo.InvariantCulture)).ToArray();

        var (a, r, c) = NpyFile.ReadFloat32Matrix(dir.File("f32.npy"));
        Assert.Equal((4, 3), (r, c));
        Assert.Equal(expected, a);
        Assert.Equal(2, File.ReadAllBytes(dir.File("f32v2.npy"))[6]);
        Assert.Equal(expected, NpyFile.ReadFloat32Matrix(dir.File("f32v2.npy")).Data);
        var (d64, _, _) = NpyFile.ReadFloat32Matrix(dir.File("f64.npy"));
        Assert.Equal(expected.Select(x => (float)(x * 1.5)), d64);
        Assert.Equal(new long[] { 5, -7, 1L << 40 }, NpyFile.ReadInt64(dir.File("i64.npy")));
        Assert.Equal(new long[] { 5, -7, 1L << 30 }, NpyFile.ReadInt64(dir.File("i32.npy")));
    }

    [Fact]
    public void TensorsRoundTripThroughNumpy()
    {
        TorchRuntime.EnsureLoaded();
        using var dir = new TempDir();
        using var t = torch.arange(24, dtype: torch.float64).reshape(2, 3, 4) / 3;
        NpyFile.WriteTensor(dir.File("t.npy"), t);
        PythonPeer.Run("""
            import sys, numpy as np
            a = np.load(sys.argv[1])
            assert a.dtype == np.float64 and a.shape == (2, 3, 4)
            assert np.array_equal(a, np.arange(24, dtype=np.float64).reshape(2, 3, 4) / 3)
            np.save(sys.argv[2], (a * 2).astype(np.float32))
            """, dir.File("t.npy"), dir.File("u.npy"));
        using var u = NpyFile.ReadTensor(dir.File("u.npy"));
        Assert.Equal(torch.ScalarType.Float32, u.dtype);
        Assert.Equal(new long[] { 2, 3, 4 }, u.shape);
        using var expected = (t * 2).to(torch.float32);
        Assert.Equal(expected.data<float>().ToArray(), u.data<float>().ToArray());
    }

    [Fact]
    public void BadFilesGiveClearErrorsNamingTheFile()
    {
        using var dir = new TempDir();
        var path = dir.File("bad.npy");

        File.WriteAllBytes(path, "not numpy at all"u8.ToArray());
        Assert.Contains("magic", AssertBad(() => NpyFile.ReadFloat32Matrix(path), path));

        NpyFile.WriteFloat32Matrix(path, RandomFloats(12, 3), 3, 4);
        var bytes = File.ReadAllBytes(path);
        File.WriteAllBytes(path, bytes[..^5]);
        Assert.Contains("truncated", AssertBad(() => NpyFile.ReadFloat32Matrix(path), path));
        File.WriteAllBytes(path, bytes[..20]);
        Assert.Contains("truncated", AssertBad(() => NpyFile.ReadFloat32Matrix(path), path));

        TorchRuntime.EnsureLoaded();
        using (var ints = torch.ones(2, 2, dtype: torch.int64)) NpyFile.WriteTensor(path, ints);
        Assert.Contains("dtype", AssertBad(() => NpyFile.ReadFloat32Matrix(path), path));
        NpyFile.WriteFloat32Matrix(path, RandomFloats(4, 4), 2, 2);
        Assert.Contains("1-D", AssertBad(() => NpyFile.ReadInt64(path), path));

        PythonPeer.Run("""
            import sys, numpy as np
            np.save(sys.argv[1], np.asfortranarray(np.ones((3, 2), dtype=np.float32)))
            np.save(sys.argv[2], np.ones((3, 2), dtype='>f4'))
            np.save(sys.argv[3], np.ones((3,), dtype=np.uint8))
            """, dir.File("f.npy"), dir.File("be.npy"), dir.File("u8.npy"));
        Assert.Contains("Fortran", AssertBad(() => NpyFile.ReadFloat32Matrix(dir.File("f.npy")), dir.File("f.npy")));
        Assert.Contains("big-endian", AssertBad(() => NpyFile.ReadFloat32Matrix(dir.File("be.npy")), dir.File("be.npy")));
        Assert.Contains("unsupported", AssertBad(() => NpyFile.ReadInt64(dir.File("u8.npy")), dir.File("u8.npy")));
    }

    static string AssertBad(Func<object> read, string path)
    {
        var e = Assert.Throws<InvalidDataException>(read);
        Assert.Contains(path, e.Message);
        return e.Message;
    }
}
