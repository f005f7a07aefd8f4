using System.Runtime.InteropServices;
using DeepCluster.Core.Training;
using TorchSharp;

namespace DeepCluster.Core.Native;

/// <summary>
/// libtorch's own autocast (what <c>with torch.autocast(device, dtype=torch.bfloat16):</c> switches on in PyTorch),
/// which TorchSharp 0.107 does not expose: inside a scope, convolutions and linear layers take their float32 inputs and
/// weights cast to bfloat16 and compute in bfloat16 (oneDNN on a CPU with native bf16, cuDNN/cuBLAS on a GPU);
/// BatchNorm keeps its float32 weights and running statistics and accumulates in float32; the casts of the weights are
/// graph nodes, so their gradients arrive in float32 and the optimiser updates the float32 weights. A cast keeps the
/// memory format, so channels-last weights give channels-last bf16 copies.
/// </summary>
/// <remarks>
/// The state is the calling thread's (as in PyTorch), so a scope must be left on the thread that entered it; the
/// backward pass runs outside it, in the types the forward pass chose (as PyTorch advises). The casts of the weights
/// are cached within a scope and dropped when the outermost one ends.
/// </remarks>
public sealed class Autocast : IDisposable
{
    readonly sbyte deviceType;
    readonly bool wasEnabled;
    readonly sbyte previousType;
    bool disposed;

    Autocast(sbyte deviceType)
    {
        this.deviceType = deviceType;
        wasEnabled = IsEnabled(deviceType);
        previousType = GetDtype(deviceType);
        SetEnabled(deviceType, true);
        SetDtype(deviceType, (sbyte)torch.ScalarType.BFloat16);
        IncrementNesting();
    }

    /// <summary>
    /// Enters a bf16 autocast scope for <paramref name="device"/> when <paramref name="precision"/> is
    /// <see cref="Precision.Bf16"/>; null (nothing to leave: <c>using</c> accepts it) for <see cref="Precision.Fp32"/>.
    /// </summary>
    public static Autocast? Enter(torch.Device device, Precision precision)
    {
        if (precision == Precision.Fp32) return null;
        TorchRuntime.EnsureLoaded();
        return new Autocast((sbyte)device.type);
    }

    /// <summary>Whether bf16 autocast is on for <paramref name="device"/> on this thread.</summary>
    public static bool IsOn(torch.Device device)
    {
        TorchRuntime.EnsureLoaded();
        return IsEnabled((sbyte)device.type) && GetDtype((sbyte)device.type) == (sbyte)torch.ScalarType.BFloat16;
    }

    /// <summary>Leaves the scope: the previous state comes back; the outermost scope drops the cached weight casts.</summary>
    public void Dispose()
    {
        if (disposed) return;
        disposed = true;
        if (DecrementNesting() == 0) ClearCache();
        SetEnabled(deviceType, wasEnabled);
        SetDtype(deviceType, previousType);
    }

    // c10::DeviceType and c10::ScalarType are `enum class … : int8_t`; the values are TorchSharp's DeviceType and
    // ScalarType (CPU 0, CUDA 1; BFloat16 15).
    [DllImport("torch_cpu", EntryPoint = "_ZN2at8autocast20set_autocast_enabledEN3c1010DeviceTypeEb")]
    static extern void SetEnabled(sbyte deviceType, [MarshalAs(UnmanagedType.U1)] bool enabled);

    [DllImport("torch_cpu", EntryPoint = "_ZN2at8autocast19is_autocast_enabledEN3c1010DeviceTypeE")]
    [return: MarshalAs(UnmanagedType.U1)]
    static extern bool IsEnabled(sbyte deviceType);

    [DllImport("torch_cpu", EntryPoint = "_ZN2at8autocast18set_autocast_dtypeEN3c1010DeviceTypeENS1_10ScalarTypeE")]
    static extern void SetDtype(sbyte deviceType, sbyte scalarType);

    [DllImport("torch_cpu", EntryPoint = "_ZN2at8autocast18get_autocast_dtypeEN3c1010DeviceTypeE")]
    static extern sbyte GetDtype(sbyte deviceType);

    [DllImport("torch_cpu", EntryPoint = "_ZN2at8autocast17increment_nestingEv")]
    static extern int IncrementNesting();

    [DllImport("torch_cpu", EntryPoint = "_ZN2at8autocast17decrement_nestingEv")]
    static extern int DecrementNesting();

    [DllImport("torch_cpu", EntryPoint = "_ZN2at8autocast11clear_cacheEv")]
    static extern void ClearCache();
}
