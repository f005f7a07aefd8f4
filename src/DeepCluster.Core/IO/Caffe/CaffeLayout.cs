namespace DeepCluster.Core.IO.Caffe;

/// <summary>
/// The layers of a caffemodel recognised as a DeepCluster AlexNet or VGG16, by kind and order (layer names are not
/// used: the released files were converted from PyTorch and name their layers after autograd functions,
/// <c>ConvNdBackward5</c> and the like). The expected sequence: an input stage of 1×1 convolutions ending in one
/// grey channel (the Sobel grey conv, with whatever preprocessing the file folded in) and the 3×3 Sobel conv to two
/// channels, or no input stage for a model without Sobel; then the trunk's convolutions (5 for AlexNet, 13 for VGG16),
/// each with a BatchNorm (Caffe's BatchNorm + Scale pair, or none at all when the normalisation was folded away),
/// ReLU and max-pools; then two InnerProduct layers (the classifier) and optionally a third (the clustering head).
/// Dropout, Reshape, Flatten, Split, Input/Data and Softmax layers are passed over.
/// </summary>
/// <param name="Arch">The architecture this port builds for it.</param>
/// <param name="GreyStage">The 1×1 convolutions before the Sobel conv (composed into our grey conv); empty without Sobel.</param>
/// <param name="SobelFilter">The 3×3 Sobel convolution to 2 channels, or null.</param>
/// <param name="Convs">The trunk's convolutions, in order.</param>
/// <param name="BatchNorms">Each trunk convolution's BatchNorm and the Scale after it (empty when the file has none).</param>
/// <param name="Linears">The classifier's InnerProduct layers, then the head's if present.</param>
public sealed record CaffeLayout(string Arch, IReadOnlyList<CaffeLayer> GreyStage, CaffeLayer? SobelFilter,
                                 IReadOnlyList<CaffeLayer> Convs, IReadOnlyList<(CaffeLayer Norm, CaffeLayer? Scale)> BatchNorms,
                                 IReadOnlyList<CaffeLayer> Linears)
{
    /// <summary>Layer types that carry no weights and do nothing at evaluation that our modules do not do.</summary>
    public static readonly string[] PassedOver =
        ["Input", "Data", "DummyData", "MemoryData", "ImageData", "Dropout", "Reshape", "Flatten", "Split", "Silence", "Softmax"];

    static readonly string[] Handled = ["Convolution", "BatchNorm", "Scale", "ReLU", "Pooling", "InnerProduct"];

    /// <summary>Whether the model starts with the Sobel filtering.</summary>
    public bool Sobel => SobelFilter is not null;

    /// <summary>The number of clusters of the head (its outputs), or null when the file has no head.</summary>
    public int? Clusters => Linears.Count == 3 ? (int)Dims(Linears[2].Blobs[0], 2)[Linears[2].InnerProduct?.Transpose == true ? 1 : 0] : null;

    /// <summary>Recognises the layout of <paramref name="net"/>, read from <paramref name="path"/>.</summary>
    /// <exception cref="InvalidDataException">A layer this port does not know, or not a DeepCluster AlexNet/VGG16 (one line naming the file).</exception>
    public static CaffeLayout Analyse(CaffeNet net, string path)
    {
        var convs = new List<CaffeLayer>();
        var norms = new List<(CaffeLayer, CaffeLayer?)>();
        var linears = new List<CaffeLayer>();
        int leading = 0, pools = 0;
        var blockStarted = false;
        var layers = net.Layers.Where(l => !PassedOver.Contains(l.Type)).ToList();
        for (var i = 0; i < layers.Count; i++)
        {
            var l = layers[i];
            switch (l.Type)
            {
                case "Convolution":
                    if (linears.Count > 0) throw NotDeepCluster(path, $"{l.Describe} comes after an InnerProduct layer");
                    CheckConv(l, path);
                    convs.Add(l);
                    if (!blockStarted) leading++;
                    break;
                case "BatchNorm":
                    blockStarted = true;
                    CheckBlobs(l, 3, 3, path);
                    CaffeLayer? scale = null;
                    if (i + 1 < layers.Count && layers[i + 1].Type == "Scale") { scale = layers[++i]; CheckBlobs(scale, 1, 2, path); }
                    norms.Add((l, scale));
                    break;
                case "Scale":
                    throw NotDeepCluster(path, $"{l.Describe} does not follow a BatchNorm layer");
                case "ReLU":
                    blockStarted = true;
                    if (l.ReluSlope != 0) throw NotDeepCluster(path, $"{l.Describe} is leaky (negative_slope {l.ReluSlope})");
                    break;
                case "Pooling":
                    blockStarted = true;
                    if (l.Pooling is { } p && (p.Method != CaffePooling.Max || p.Global))
                        throw NotDeepCluster(path, $"{l.Describe} is not a max-pool over windows");
                    pools++;
                    break;
                case "InnerProduct":
                    blockStarted = true;
                    if (l.InnerProduct is { Axis: not 1 }) throw NotDeepCluster(path, $"{l.Describe} has axis {l.InnerProduct.Axis}");
                    CheckBlobs(l, 1, 2, path);
                    linears.Add(l);
                    break;
                default:
                    throw new InvalidDataException($"{path}: {l.Describe}: a layer type that is not part of a DeepCluster model " +
                                                   $"(known: {string.Join(", ", Handled.Concat(PassedOver))}).");
            }
        }
        if (convs.Count == 0) throw NotDeepCluster(path, "no convolution layers");

        // The input stage: the convolutions before the first conv-BN-ReLU block, less that block's conv.
        var input = convs.Take(leading - 1).ToList();
        var trunk = convs.Skip(Math.Max(leading - 1, 0)).ToList();
        CaffeLayer? sobel = null;
        var grey = new List<CaffeLayer>();
        if (input.Count > 0)
        {
            sobel = input[^1];
            grey = input.Take(input.Count - 1).ToList();
            var s = Dims(sobel.Blobs[0], 4);
            var sc = sobel.Convolution;
            if (s is not [2, 1, 3, 3] || sc is not null && (sc.Stride != (1, 1) || sc.Pad != (1, 1)) || grey.Count == 0)
                throw NotDeepCluster(path, $"{input.Count} convolution(s) before the first conv-BN-ReLU block that are not " +
                                           "DeepCluster's Sobel filtering (1×1 convs to one grey channel, then a 3×3 conv to 2 channels, padding 1)");
            long channels = 3;
            foreach (var g in grey)
            {
                var d = Dims(g.Blobs[0], 4);
                if (d[1] != channels || d[2] != 1 || d[3] != 1 || g.Convolution is { } gc && (gc.Stride != (1, 1) || gc.Pad != (0, 0)))
                    throw NotDeepCluster(path, $"{g.Describe} before the Sobel conv is not a 1×1 convolution over {channels} channels without padding");
                channels = d[0];
            }
            if (channels != 1) throw NotDeepCluster(path, $"the convolutions before the Sobel conv end in {channels} channels, not one grey channel");
        }
        else if (Dims(trunk[0].Blobs[0], 4)[1] != 3)
            throw NotDeepCluster(path, $"the first convolution takes {Dims(trunk[0].Blobs[0], 4)[1]} channels, not an image's 3");

        var arch = trunk.Count switch
        {
            13 => "vgg16",
            5 => Dims(trunk[0].Blobs[0], 4)[2] == 11 ? "alexnet" : "alexnet_small",
            _ => throw NotDeepCluster(path, $"{trunk.Count} convolution layers after the input stage; DeepCluster's AlexNet has 5, VGG16 13"),
        };
        var expectedPools = arch == "vgg16" ? 5 : 3;
        if (pools != expectedPools) throw NotDeepCluster(path, $"{pools} pooling layers; {arch} has {expectedPools}");
        if (norms.Count != 0 && norms.Count != trunk.Count)
            throw NotDeepCluster(path, $"{norms.Count} BatchNorm layers for {trunk.Count} convolutions");
        if (linears.Count is not (2 or 3))
            throw NotDeepCluster(path, $"{linears.Count} InnerProduct layers; DeepCluster's classifier has 2 (and the head a third)");
        return new CaffeLayout(arch, grey, sobel, trunk, norms, linears);
    }

    /// <summary>The dimensions of <paramref name="blob"/> as a tensor of <paramref name="rank"/> dimensions (old files pad with leading 1s).</summary>
    internal static long[] Dims(CaffeBlob blob, int rank)
    {
        var s = blob.SqueezedShape;
        if (s.Length > rank) return s;          // does not fit; the caller's shape checks say so
        return Enumerable.Repeat(1L, rank - s.Length).Concat(s).ToArray();
    }

    static void CheckConv(CaffeLayer l, string path)
    {
        CheckBlobs(l, 1, 2, path);
        if (Dims(l.Blobs[0], 4).Length != 4) throw NotDeepCluster(path, $"{l.Describe}: its weight is not 4-dimensional");
        if (l.Convolution is { } c && (c.Group != 1 || c.Dilation != 1))
            throw NotDeepCluster(path, $"{l.Describe} is grouped or dilated");
    }

    static void CheckBlobs(CaffeLayer l, int min, int max, string path)
    {
        if (l.Blobs.Count < min || l.Blobs.Count > max)
            throw NotDeepCluster(path, $"{l.Describe} has {l.Blobs.Count} weight blobs, expected {(min == max ? $"{min}" : $"{min} or {max}")}");
    }

    static InvalidDataException NotDeepCluster(string path, string reason) =>
        new($"{path}: not a DeepCluster AlexNet or VGG16 Caffe model: {reason}.");
}
