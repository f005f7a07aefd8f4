using System.Runtime.InteropServices;
using DeepCluster.Core.Training;
using TorchSharp;

namespace DeepCluster.Core.Native;

/// <summary>
/// Where <c>--precision bf16</c> may run. On a CPU only where it computes bf16 natively (x86 AVX512-BF16, which every
/// AMX-BF16 CPU also has): elsewhere oneDNN emulates it, slower than float32, so the run is refused with one line
/// rather than silently slowed. A GPU (Ampere and later: the H100/H200 this targets) always may.
/// </summary>
public static class Bf16Support
{
    static readonly Lazy<bool> Native = new(Detect);
    static readonly AsyncLocal<bool> Pretend = new();

    /// <summary>
    /// Test hook: while true in the current async flow (a test and what it awaits), the CPU is taken to lack bf16, so
    /// the refusal can be tested on a machine that has it. Other flows (tests running beside it) are not affected.
    /// </summary>
    public static bool PretendCpuLacksBf16
    {
        get => Pretend.Value;
        set => Pretend.Value = value;
    }

    /// <summary>Whether this CPU computes bf16 natively (and the hook does not pretend otherwise).</summary>
    public static bool CpuHasNativeBf16 => !PretendCpuLacksBf16 && Native.Value;

    /// <summary>
    /// Throws a user error (one line naming <c>--precision</c> and the reason) when <paramref name="precision"/> cannot
    /// run on <paramref name="device"/>.
    /// </summary>
    public static void Require(Precision precision, torch.Device device)
    {
        if (precision != Precision.Bf16 || device.type != DeviceType.CPU || CpuHasNativeBf16) return;
        throw new ArgumentException(
            "--precision bf16: this CPU has no native bf16 arithmetic (no avx512_bf16 or amx_bf16), so bf16 would be " +
            "emulated and slower than fp32; use --precision fp32 here, or bf16 on a GPU (--device cuda).");
    }

    /// <summary>
    /// libtorch's own answer (cpuinfo: the instructions and the OS's saving of their registers) where the library has
    /// it; else, on Linux, the flags of <c>/proc/cpuinfo</c>.
    /// </summary>
    static bool Detect()
    {
        TorchRuntime.EnsureLoaded();
        try { return IsAvx512Bf16Supported(); }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException) { }
        return OperatingSystem.IsLinux() && File.Exists("/proc/cpuinfo") && HasBf16Flag(File.ReadLines("/proc/cpuinfo"));
    }

    /// <summary>Whether a <c>flags</c> line of cpuinfo names <c>avx512_bf16</c> or <c>amx_bf16</c>.</summary>
    internal static bool HasBf16Flag(IEnumerable<string> cpuinfo) => cpuinfo
        .Where(l => l.StartsWith("flags", StringComparison.Ordinal) && l.Contains(':'))
        .Any(l => l[(l.IndexOf(':') + 1)..].Split(' ', StringSplitOptions.RemoveEmptyEntries) is var f &&
                  (f.Contains("avx512_bf16") || f.Contains("amx_bf16")));

    [DllImport("torch_cpu", EntryPoint = "_ZN2at3cpu24is_avx512_bf16_supportedEv")]
    [return: MarshalAs(UnmanagedType.U1)]
    static extern bool IsAvx512Bf16Supported();
}
