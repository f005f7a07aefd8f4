using System.Runtime.InteropServices;

/// <summary>
/// <c>torch.backends.cudnn.benchmark</c>, which TorchSharp 0.107 does not expose: cuDNN times its algorithms for each
/// new shape and keeps the fastest (the PyTorch figures of ../shared/gpu/README.md were taken with it on). Bound to
/// libtorch's <c>at::globalContext()</c> and the context's member functions (an instance member: the context comes
/// first). Harmless on a CPU: only cuDNN reads it.
/// </summary>
static class CudnnBenchmark
{
    public static bool Enabled
    {
        get => Get(GlobalContext());
        set => Set(GlobalContext(), value);
    }

    [DllImport("torch_cpu", EntryPoint = "_ZN2at13globalContextEv")]
    static extern IntPtr GlobalContext();

    [DllImport("torch_cpu", EntryPoint = "_ZN2at7Context17setBenchmarkCuDNNEb")]
    static extern void Set(IntPtr context, [MarshalAs(UnmanagedType.U1)] bool on);

    [DllImport("torch_cpu", EntryPoint = "_ZNK2at7Context14benchmarkCuDNNEv")]
    [return: MarshalAs(UnmanagedType.U1)]
    static extern bool Get(IntPtr context);
}
