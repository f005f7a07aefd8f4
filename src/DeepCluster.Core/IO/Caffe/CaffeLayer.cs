namespace DeepCluster.Core.IO.Caffe;

/// <summary>
/// One Caffe <c>LayerParameter</c> of a caffemodel (caffe.proto: <c>name</c> = 1, <c>type</c> = 2, <c>blobs</c> = 7,
/// <c>convolution_param</c> = 106, <c>inner_product_param</c> = 117, <c>pooling_param</c> = 121,
/// <c>relu_param</c> = 123 (<c>negative_slope</c> = 1), <c>batch_norm_param</c> = 139 (<c>eps</c> = 3)); the
/// fields the mapping onto our modules does not need are skipped.
/// </summary>
public sealed record CaffeLayer(string Name, string Type, IReadOnlyList<CaffeBlob> Blobs, CaffeConvolution? Convolution,
                                CaffePooling? Pooling, CaffeInnerProduct? InnerProduct, float BatchNormEps, float ReluSlope)
{
    /// <summary>Caffe's default <c>BatchNormParameter.eps</c> (also PyTorch's BatchNorm2d eps).</summary>
    public const float DefaultEps = 1e-5f;

    /// <summary>How error messages name the layer.</summary>
    public string Describe => $"layer '{Name}' ({Type})";

    internal static CaffeLayer Read(ProtoMessageReader r)
    {
        string name = "", type = "";
        var blobs = new List<CaffeBlob>();
        CaffeConvolution? conv = null;
        CaffePooling? pool = null;
        CaffeInnerProduct? ip = null;
        float eps = DefaultEps, slope = 0;
        while (r.Next())
        {
            switch (r.Field)
            {
                case 1: name = r.String(); break;
                case 2: type = r.String(); break;
                case 7: blobs.Add(CaffeBlob.Read(r.Message())); break;
                case 106: conv = CaffeConvolution.Read(r.Message()); break;
                case 117: ip = CaffeInnerProduct.Read(r.Message()); break;
                case 121: pool = CaffePooling.Read(r.Message()); break;
                case 123:
                    var relu = r.Message();
                    while (relu.Next()) if (relu.Field == 1) slope = relu.Float(); else relu.Skip();
                    break;
                case 139:
                    var bn = r.Message();
                    while (bn.Next()) if (bn.Field == 3) eps = bn.Float(); else bn.Skip();
                    break;
                default: r.Skip(); break;
            }
        }
        return new CaffeLayer(name, type, blobs, conv, pool, ip, eps, slope);
    }
}
