using System.Diagnostics;
using DeepCluster.Core.Native;
using TorchSharp;

namespace DeepCluster.Core.Tests;

public class TorchRuntimeTests
{
    [Fact]
    public void LibTorchLoadsAndComputes()
    {
        TorchRuntime.EnsureLoaded();
        using var a = torch.arange(6, dtype: torch.float32).reshape(2, 3);
        using var b = a.matmul(a.t());
        Assert.Equal(new[] { 5f, 14f, 14f, 50f }, b.data<float>().ToArray());
    }

    [Fact]
    public void GlibcTakesTheSettingsThatKeepFreedTensorMemory()
    {
        // mallopt refuses what it cannot do (a threshold above glibc's 32 MiB ceiling returns 0); the effect itself,
        // fewer page faults and a shorter epoch, is measured by bench/protocol (see TorchRuntime.KeepFreedMemory).
        Assert.True(TorchRuntime.KeepFreedMemory());
    }

    [Fact]
    public void BuildMarkedGlibcxx3432WeakWhenSystemLacksIt()
    {
        var lib = Path.Combine(AppContext.BaseDirectory, "runtimes", "linux-x64", "native", "libLibTorchSharp.so");
        Assert.True(File.Exists(lib), lib);
        var systemHasIt = File.Exists("/lib/x86_64-linux-gnu/libstdc++.so.6")
                          && File.ReadAllText("/lib/x86_64-linux-gnu/libstdc++.so.6").Contains("GLIBCXX_3.4.32\0");
        var psi = new ProcessStartInfo("readelf", $"-V \"{lib}\"") { RedirectStandardOutput = true };
        using var p = Process.Start(psi)!;
        var text = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        var line = text.Split('\n').First(l => l.Contains("Name: GLIBCXX_3.4.32"));
        if (systemHasIt) return;   // nothing to patch on such systems
        Assert.Contains("WEAK", line);
    }

    [Fact]
    public void DenormalsAreFlushedOrKeptAsTheThreadAsks()
    {
        // The thread is started from one that flushes (as an xunit thread may be, after another test): a thread
        // inherits its creator's floating-point environment, so both settings are asked for and checked in turn.
        // No float of the check is computed or compared in managed code: the JIT compiles the lambda on the new thread
        // before it runs, and folding a denormal constant under the inherited denormals-are-zero made it 0. The
        // denormal (1e-39) comes from bits read at run time, and the product is compared as bits.
        TorchRuntime.EnsureLoaded();
        int keptBits = 0, flushedBits = -1;
        bool supportedOff = false, supportedOn = false;
        var t = new Thread(() =>
        {
            int[] bits = [0x000AE398];
            using var tiny = torch.tensor(new[] { BitConverter.Int32BitsToSingle(bits[0]) });
            supportedOff = TorchRuntime.FlushDenormals(false);
            using (var product = tiny * 1.5f) keptBits = BitConverter.SingleToInt32Bits(product.data<float>()[0]);
            supportedOn = TorchRuntime.FlushDenormals(true);
            using (var product = tiny * 1.5f) flushedBits = BitConverter.SingleToInt32Bits(product.data<float>()[0]);
        });
        var parent = new Thread(() => { TorchRuntime.FlushDenormals(true); t.Start(); t.Join(); });
        parent.Start(); parent.Join();
        Assert.True(supportedOff && supportedOn);
        Assert.NotEqual(0, keptBits);      // 1.5e-39, still a denormal
        Assert.Equal(0, flushedBits);
    }

    [Fact]
    public void DiagnosisNamesTheCauseAndAFix()
    {
        var msg = TorchRuntime.Diagnose(new TypeInitializationException("TorchSharp.torch", new DllNotFoundException("libLibTorchSharp.so: cannot open")));
        Assert.Contains("libLibTorchSharp.so", msg);
        Assert.Contains("fix:", msg);
    }
}
