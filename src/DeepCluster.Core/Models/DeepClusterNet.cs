using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace DeepCluster.Core.Models;

/// <summary>
/// The network shape shared by the published DeepCluster models:
/// optional frozen <c>sobel</c> → <c>features</c> (convs) → flatten → <c>classifier</c> (MLP ending in ReLU)
/// → optional <c>top_layer</c> (the clustering head, replaced every epoch).
/// Submodule names match the PyTorch code, so state dicts move between the two without renaming.
/// </summary>
public abstract class DeepClusterNet : Module<Tensor, Tensor>
{
    readonly Sequential? sobel;
    readonly Sequential features;
    readonly Module<Tensor, Tensor>[] featureLayers;
    readonly Sequential classifier;
    Linear? top_layer;

    /// <summary>Architecture name as given to <c>--arch</c>.</summary>
    public string Arch { get; }
    /// <summary>Whether the frozen Sobel filtering is applied to the input.</summary>
    public bool UsesSobel => sobel is not null;
    /// <summary>Dimension of the classifier output (the input of <c>top_layer</c>): 4096 for AlexNet/VGG16.</summary>
    public int FeatureDim { get; }
    /// <summary>Side of the square input images the architecture expects (224, or 28 for alexnet_small).</summary>
    public int InputSize { get; }
    /// <summary>The frozen Sobel filter (grey, then the two gradients), or null for a model on RGB.</summary>
    public Module<Tensor, Tensor>? SobelFilter => sobel;
    /// <summary>The layers of <c>features</c> in order (convs, BatchNorms, ReLUs, max-pools), for readers of one layer.</summary>
    public IReadOnlyList<Module<Tensor, Tensor>> FeatureLayers => featureLayers;
    /// <summary>The clustering head, or null while features are extracted.</summary>
    public Linear? TopLayer => top_layer;

    /// <summary>
    /// Eval mode (BatchNorm statistics frozen, no dropout) and no parameter asking for a gradient: the model as a
    /// linear probe, a retrieval pass or a visualisation reads it.
    /// </summary>
    public void Freeze()
    {
        eval();
        foreach (var p in parameters()) p.requires_grad = false;
    }

    protected DeepClusterNet(string arch, Sequential features, Sequential classifier, int featureDim, int numClasses,
                             bool useSobel, int inputSize) : base(arch)
    {
        Arch = arch;
        FeatureDim = featureDim;
        InputSize = inputSize;
        this.features = features;
        featureLayers = features.children().Cast<Module<Tensor, Tensor>>().ToArray();
        this.classifier = classifier;
        top_layer = numClasses > 0 ? Linear(featureDim, numClasses) : null;
        // Registration order = PyTorch's attribute order (features, classifier, top_layer, sobel),
        // so parameters() enumerates in the order the published optimizer sees.
        register_module("features", features);
        register_module("classifier", classifier);
        if (top_layer is not null) register_module("top_layer", top_layer);
        Init.InitializeWeights(this);
        if (useSobel)
        {
            sobel = Sobel.Create();
            register_module("sobel", sobel);
        }
        MemoryLayout.ToChannelsLast(this);
    }

    /// <summary>Replaces the clustering head (null removes it), as main.py does each epoch.</summary>
    public void SetTopLayer(Linear? head)
    {
        if (top_layer is not null) register_module("top_layer", null!);
        top_layer = head;
        if (head is not null) register_module("top_layer", head);
    }

    /// <summary>Full forward pass: sobel → features → classifier (with its last ReLU) → top_layer if set.</summary>
    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var h = Trunk(x);
        h = classifier.forward(h);
        if (top_layer is not null) h = top_layer.forward(h);
        return h.MoveToOuterDisposeScope();
    }

    /// <summary>
    /// The features DeepCluster clusters: the classifier output with its last ReLU removed and no head
    /// (main.py strips the last ReLU before <c>compute_features</c>).
    /// </summary>
    public Tensor Embed(Tensor x)
    {
        using var scope = NewDisposeScope();
        var h = Trunk(x);
        var layers = classifier.children().Cast<Module<Tensor, Tensor>>().ToList();
        for (int i = 0; i < layers.Count - 1; i++) h = layers[i].forward(h);
        return h.MoveToOuterDisposeScope();
    }

    /// <summary>The trainable parameters of the trunk (all but the head and the frozen Sobel), in PyTorch's order.</summary>
    public IEnumerable<Parameter> TrunkParameters() =>
        features.parameters().Concat(classifier.parameters()).Where(p => p.requires_grad);

    Tensor Trunk(Tensor x)
    {
        x = x.ToChannelsLast();
        if (sobel is not null) x = sobel.forward(x);
        return Features(x).flatten(1);
    }

    /// <summary>
    /// <c>features</c>, with each ReLU that feeds a max-pool applied after the pool instead: max commutes with the
    /// monotone ReLU, so outputs and gradients are bit-identical, and the ReLU and its backward touch a quarter of
    /// the elements (the full-resolution ReLU is about 5 % of a training step of alexnet_small).
    /// </summary>
    Tensor Features(Tensor h)
    {
        for (int i = 0; i < featureLayers.Length; i++)
        {
            var layer = featureLayers[i];
            if (layer is ReLU && i + 1 < featureLayers.Length && featureLayers[i + 1] is MaxPool2d pool)
            {
                h = pool.forward(h).relu_();
                i++;
            }
            else h = layer.forward(h);
        }
        return h;
    }
}
