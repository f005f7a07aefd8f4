namespace DeepCluster.Core.IO.Caffe;

/// <summary>
/// The part of Caffe's <c>ConvolutionParameter</c> the mapping checks (caffe.proto: <c>num_output</c> = 1,
/// <c>bias_term</c> = 2, <c>pad</c> = 3, <c>kernel_size</c> = 4, <c>group</c> = 5, <c>stride</c> = 6,
/// <c>pad_h/pad_w</c> = 9/10, <c>kernel_h/kernel_w</c> = 11/12, <c>stride_h/stride_w</c> = 13/14, <c>dilation</c> = 18).
/// </summary>
public sealed record CaffeConvolution(long NumOutput, bool BiasTerm, (long H, long W) Kernel, (long H, long W) Stride,
                                      (long H, long W) Pad, long Group, long Dilation)
{
    internal static CaffeConvolution Read(ProtoMessageReader r)
    {
        long numOutput = 0, group = 1;
        var bias = true;
        List<long> pad = [], kernel = [], stride = [], dilation = [];
        long? padH = null, padW = null, kernelH = null, kernelW = null, strideH = null, strideW = null;
        while (r.Next())
        {
            switch (r.Field)
            {
                case 1: numOutput = r.Int32(); break;
                case 2: bias = r.Bool(); break;
                case 3: r.UInt64s(pad); break;
                case 4: r.UInt64s(kernel); break;
                case 5: group = r.Int32(); break;
                case 6: r.UInt64s(stride); break;
                case 9: padH = r.Int32(); break;
                case 10: padW = r.Int32(); break;
                case 11: kernelH = r.Int32(); break;
                case 12: kernelW = r.Int32(); break;
                case 13: strideH = r.Int32(); break;
                case 14: strideW = r.Int32(); break;
                case 18: r.UInt64s(dilation); break;
                default: r.Skip(); break;
            }
        }
        (long, long) Pair(List<long> both, long? h, long? w, long fallback) =>
            (h ?? (both.Count > 0 ? both[0] : fallback), w ?? (both.Count > 1 ? both[1] : both.Count > 0 ? both[0] : fallback));
        return new CaffeConvolution(numOutput, bias, Pair(kernel, kernelH, kernelW, 0), Pair(stride, strideH, strideW, 1),
                                    Pair(pad, padH, padW, 0), group, dilation.Count > 0 ? dilation.Max() : 1);
    }
}

/// <summary>
/// The part of Caffe's <c>PoolingParameter</c> the mapping checks (<c>pool</c> = 1 with MAX = 0, <c>kernel_size</c> = 2,
/// <c>stride</c> = 3, <c>pad</c> = 4, <c>global_pooling</c> = 12).
/// </summary>
public sealed record CaffePooling(int Method, long Kernel, long Stride, long Pad, bool Global)
{
    /// <summary>Caffe's <c>PoolMethod.MAX</c>.</summary>
    public const int Max = 0;

    internal static CaffePooling Read(ProtoMessageReader r)
    {
        int method = Max;
        long kernel = 0, stride = 1, pad = 0;
        var global = false;
        while (r.Next())
        {
            switch (r.Field)
            {
                case 1: method = r.Int32(); break;
                case 2: kernel = r.Int32(); break;
                case 3: stride = r.Int32(); break;
                case 4: pad = r.Int32(); break;
                case 12: global = r.Bool(); break;
                default: r.Skip(); break;
            }
        }
        return new CaffePooling(method, kernel, stride, pad, global);
    }
}

/// <summary>
/// The part of Caffe's <c>InnerProductParameter</c> the mapping needs (<c>num_output</c> = 1, <c>bias_term</c> = 2,
/// <c>axis</c> = 5, <c>transpose</c> = 6: the weight stored as in × out).
/// </summary>
public sealed record CaffeInnerProduct(long NumOutput, bool BiasTerm, int Axis, bool Transpose)
{
    internal static CaffeInnerProduct Read(ProtoMessageReader r)
    {
        long numOutput = 0;
        var bias = true;
        var axis = 1;
        var transpose = false;
        while (r.Next())
        {
            switch (r.Field)
            {
                case 1: numOutput = r.Int32(); break;
                case 2: bias = r.Bool(); break;
                case 5: axis = r.Int32(); break;
                case 6: transpose = r.Bool(); break;
                default: r.Skip(); break;
            }
        }
        return new CaffeInnerProduct(numOutput, bias, axis, transpose);
    }
}
