using System.Collections;
using DeepCluster.Core.IO;
using DeepCluster.Core.Native;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace DeepCluster.Core.Evaluation;

/// <summary>
/// A linear probe's checkpoint, in PyTorch's zip format (<c>torch.load</c> reads it):
/// <c>{'epoch': next epoch, 'arch', 'conv', 'state_dict': {'linear.weight', 'linear.bias'}, 'optimizer',
/// 'prec1', 'prec5', 'best_prec1', 'best_epoch'}</c>. The published script saved the frozen trunk's
/// <c>model.state_dict()</c> here (a bug: the trained classifier was lost); this saves the classifier, whose keys are
/// those of the published <c>RegLog</c>.
/// </summary>
public sealed class ClassifierCheckpoint : IDisposable
{
    /// <summary>The next epoch to run (epochs done).</summary>
    public required int Epoch { get; init; }
    public required string Arch { get; init; }
    public required int Conv { get; init; }
    public required Dictionary<string, Tensor> StateDict { get; init; }
    public SgdState? Optimizer { get; init; }
    public double Prec1 { get; init; }
    public double Prec5 { get; init; }
    public double BestPrec1 { get; init; }
    /// <summary>0-based epoch of <see cref="BestPrec1"/>, −1 when none.</summary>
    public int BestEpoch { get; init; } = -1;

    /// <summary>Writes the classifier and its optimizer atomically.</summary>
    public static void Save(string path, int nextEpoch, string arch, int conv, LinearClassifier classifier, SGD optimizer,
                            double prec1, double prec5, double bestPrec1, int bestEpoch)
    {
        EvalCheckpointFile.Save(path, classifier, optimizer, new Hashtable
        {
            ["epoch"] = nextEpoch, ["arch"] = arch, ["conv"] = conv,
            ["prec1"] = prec1, ["prec5"] = prec5, ["best_prec1"] = bestPrec1, ["best_epoch"] = bestEpoch,
        });
    }

    /// <summary>Reads a checkpoint written by <see cref="Save"/>.</summary>
    /// <exception cref="InvalidDataException">Unreadable, or not a linear classifier's checkpoint; names the file.</exception>
    public static ClassifierCheckpoint Load(string path) =>
        EvalCheckpointFile.Load(path, "linear classifier", ["epoch", "conv", "state_dict", "optimizer"], (h, sd, sgd) => new ClassifierCheckpoint
        {
            Epoch = System.Convert.ToInt32(h["epoch"]),
            Arch = h["arch"] as string ?? "",
            Conv = System.Convert.ToInt32(h["conv"]),
            StateDict = sd,
            Optimizer = sgd,
            Prec1 = Number(h["prec1"]), Prec5 = Number(h["prec5"]), BestPrec1 = Number(h["best_prec1"]),
            BestEpoch = h["best_epoch"] is null ? -1 : System.Convert.ToInt32(h["best_epoch"]),
        });

    static double Number(object? o) => o is null ? 0 : System.Convert.ToDouble(o);

    public void Dispose()
    {
        foreach (var t in StateDict.Values) t.Dispose();
        Optimizer?.Dispose();
    }
}
