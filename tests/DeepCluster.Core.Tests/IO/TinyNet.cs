using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace DeepCluster.Core.Tests.IO;

/// <summary>
/// A DeepCluster-shaped network (features / classifier / top_layer) whose state-dict names match
/// <see cref="PyDefinition"/>, the same network in PyTorch.
/// </summary>
public sealed class TinyNet : Module<Tensor, Tensor>
{
    // Field names are the state-dict prefixes (RegisterComponents uses them), declared in PyTorch's order.
    readonly Sequential features;
    readonly Sequential classifier;
    readonly Linear top_layer;

    public TinyNet() : base(nameof(TinyNet))
    {
        features = Sequential(("0", Conv2d(3, 8, 3, padding: 1)), ("1", BatchNorm2d(8)), ("2", ReLU()), ("3", MaxPool2d(2)));
        classifier = Sequential(("0", Dropout()), ("1", Linear(8 * 4 * 4, 10)));
        top_layer = Linear(10, 5);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        return top_layer.forward(classifier.forward(features.forward(x).flatten(1))).MoveToOuterDisposeScope();
    }

    public const string PyDefinition = """
        import torch, torch.nn as nn
        class TinyNet(nn.Module):
            def __init__(self):
                super().__init__()
                self.features = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(), nn.MaxPool2d(2))
                self.classifier = nn.Sequential(nn.Dropout(), nn.Linear(8 * 4 * 4, 10))
                self.top_layer = nn.Linear(10, 5)
            def forward(self, x):
                x = self.features(x)
                return self.top_layer(self.classifier(x.view(x.size(0), -1)))
        """;
}
