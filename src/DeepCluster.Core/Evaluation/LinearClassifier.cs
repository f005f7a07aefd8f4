using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace DeepCluster.Core.Evaluation;

/// <summary>
/// The linear layer of the published <c>RegLog</c> (its average pooling is done by <see cref="FrozenTrunk"/>, it has no
/// parameters): <c>Linear(dim, classes)</c> with PyTorch's default initialisation, drawn from <c>seed</c>. No BatchNorm:
/// the published <c>eval_linear.py</c> has none. The state dict keys (<c>linear.weight</c>, <c>linear.bias</c>) are
/// those of <c>RegLog</c>, so <c>reglog.load_state_dict</c> takes a saved classifier as it is.
/// </summary>
public sealed class LinearClassifier : Module<Tensor, Tensor>
{
    readonly TorchSharp.Modules.Linear linear;

    /// <summary>Input dimension.</summary>
    public int Dim { get; }
    /// <summary>Number of classes.</summary>
    public int Classes { get; }

    public LinearClassifier(int dim, int classes, long seed) : base("RegLog")
    {
        if (dim <= 0 || classes <= 0) throw new ArgumentOutOfRangeException(nameof(classes), "the classifier needs a positive dimension and at least one class");
        Dim = dim;
        Classes = classes;
        using (var scope = NewDisposeScope())
        {
            using (random.manual_seed(seed)) { }   // the default generator, which nn.Linear's initialisation draws from
            linear = Linear(dim, classes);
            foreach (var p in linear.parameters()) p.DetachFromDisposeScope();
        }
        register_module("linear", linear);
    }

    /// <summary>Class scores (logits) of N × <see cref="Dim"/> features.</summary>
    public override Tensor forward(Tensor features) => linear.forward(features);
}
