using System.Diagnostics;
using System.Runtime.InteropServices;
using TorchSharp;

namespace DeepCluster.Core.Native;

/// <summary>
/// Loads TorchSharp's native libraries once and turns the cryptic TypeInitializationException
/// it throws on a broken install into an explanation: what <c>ldd</c> says and how to fix it.
/// </summary>
public static class TorchRuntime
{
    static readonly object Gate = new();
    static bool _loaded;

    /// <summary>Throws <see cref="TorchLoadException"/> with a readable diagnosis if libtorch cannot load.</summary>
    public static void EnsureLoaded()
    {
        lock (Gate)
        {
            if (_loaded) return;
            // TorchSharp prints a long loader trace to the console when it fails; our diagnosis replaces it.
            var (stdout, stderr) = (Console.Out, Console.Error);
            Console.SetOut(TextWriter.Null);
            Console.SetError(TextWriter.Null);
            try
            {
                KeepFreedMemory();
                torch.InitializeDeviceType(DeviceType.CPU);
                _loaded = true;
            }
            catch (Exception e) when (e is TypeInitializationException or DllNotFoundException or NotSupportedException)
            {
                throw new TorchLoadException(Diagnose(e));
            }
            finally
            {
                Console.SetOut(stdout);
                Console.SetError(stderr);
            }
        }
    }

    /// <summary>
    /// <c>torch.set_flush_denormal(on)</c> for the calling thread (and the compute threads it starts later, which
    /// inherit its floating-point environment): with <paramref name="on"/>, denormal floats become zero. Without it a
    /// CPU step that meets tiny gradients runs 20–40× slower (seen: one AlexNet step of 52 s instead of 1.3 s). Call it
    /// on every thread that computes. False where the CPU or the library cannot do it.
    /// </summary>
    public static bool FlushDenormals(bool on = true)
    {
        EnsureLoaded();
        try { return SetFlushDenormal(on); }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException) { return false; }
    }

    /// <summary>
    /// Tells glibc's malloc to keep the memory that libtorch frees instead of handing it back to the kernel:
    /// every CPU step frees and allocates the same tens of megabytes of activations, and with glibc's defaults a
    /// share of them is unmapped and mapped again, each page faulted in and zeroed anew (measured on one protocol
    /// epoch: 1.2–1.8 M minor page faults and 5–8 s of kernel time; with this and the GC's RetainVM, 0.6 M and
    /// 3 s, and the epoch 10 % shorter). Blocks up to 32 MiB (glibc's ceiling) come from the heap rather than from
    /// mmap, and the heap top is not trimmed below 1 GiB. Linux only; true when glibc took both settings.
    /// </summary>
    public static bool KeepFreedMemory()
    {
        if (!OperatingSystem.IsLinux()) return false;
        try { return Mallopt(MmapThreshold, 32 << 20) == 1 && Mallopt(TrimThreshold, 1 << 30) == 1; }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException) { return false; }
    }

    const int TrimThreshold = -1, MmapThreshold = -3;       // M_TRIM_THRESHOLD, M_MMAP_THRESHOLD (malloc.h)

    [DllImport("libc", EntryPoint = "mallopt")]
    static extern int Mallopt(int param, int value);

    // at::Context::setFlushDenormal(bool) is a *static* member (libtorch 2.x: it takes its flag in the first argument
    // register and never reads a `this`; see ATen/Context.h), so it is bound with the flag as its only parameter.
    // Binding it as an instance member (context pointer first) compiled and ran, but libtorch then read the low byte
    // of the context's address as the flag and ignored the one we passed.
    [DllImport("torch_cpu", EntryPoint = "_ZN2at7Context16setFlushDenormalEb")]
    [return: MarshalAs(UnmanagedType.U1)]
    static extern bool SetFlushDenormal([MarshalAs(UnmanagedType.U1)] bool on);

    /// <summary>The device to run on: "cuda" when available (or asked for), else "cpu".</summary>
    public static torch.Device ResolveDevice(string? requested)
    {
        EnsureLoaded();
        if (string.IsNullOrWhiteSpace(requested) || requested == "auto")
            return torch.cuda.is_available() ? torch.CUDA : torch.CPU;
        if (requested.StartsWith("cuda", StringComparison.OrdinalIgnoreCase) && !torch.cuda.is_available())
            throw new ArgumentException($"--device {requested}: CUDA is not available in this build or on this machine " +
                                        "(build with -p:TorchBackend=cuda on a machine with an NVIDIA driver).");
        try { return torch.device(requested); }
        catch (Exception) { throw new ArgumentException($"--device {requested}: expected cpu, cuda or cuda:N."); }
    }

    internal static string Diagnose(Exception e)
    {
        var lines = new List<string> { "TorchSharp could not load its native library (libLibTorchSharp.so)." };
        var root = e; while (root.InnerException != null) root = root.InnerException;
        lines.Add($"  TorchSharp says: {root.Message.Split('\n')[0]}");
        var lib = FindNativeLibrary();
        if (lib != null && RuntimeInformation.IsOSPlatform(OSPlatform.Linux))
        {
            var ldd = RunLdd(lib);
            var problems = ldd.Split('\n').Where(l => l.Contains("not found") || l.Contains("version")).Take(10).ToList();
            lines.Add($"  ldd {lib}:");
            lines.AddRange(problems.Count > 0 ? problems.Select(p => "    " + p.Trim()) : new[] { "    (no missing library or version reported)" });
            if (problems.Any(p => p.Contains("GLIBCXX")))
                lines.Add("  fix: rebuild with `dotnet build` (the build marks the unused GLIBCXX_3.4.32 requirement weak), " +
                          "or install a libstdc++ from GCC 13 or newer.");
            else if (problems.Any(p => p.Contains("not found")))
                lines.Add("  fix: restore the libtorch package (dotnet restore) so libtorch*.so sit next to libLibTorchSharp.so.");
        }
        else lines.Add("  fix: run `dotnet restore` so the libtorch-cpu-linux-x64 package is present.");
        return string.Join(Environment.NewLine, lines);
    }

    static string? FindNativeLibrary()
    {
        var baseDir = AppContext.BaseDirectory;
        foreach (var p in new[] { Path.Combine(baseDir, "libLibTorchSharp.so"),
                                  Path.Combine(baseDir, "runtimes", "linux-x64", "native", "libLibTorchSharp.so") })
            if (File.Exists(p)) return p;
        return null;
    }

    static string RunLdd(string lib)
    {
        try
        {
            var psi = new ProcessStartInfo("ldd", $"\"{lib}\"") { RedirectStandardOutput = true, RedirectStandardError = true };
            using var p = Process.Start(psi)!;
            var text = p.StandardOutput.ReadToEnd() + p.StandardError.ReadToEnd();
            p.WaitForExit(10_000);
            return text;
        }
        catch (Exception ex) { return $"ldd could not run: {ex.Message}"; }
    }
}

/// <summary>libtorch failed to load; the message says why and how to fix it.</summary>
public sealed class TorchLoadException(string message) : Exception(message);
