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
        using var sgd = SgdState.Capture(optimizer);
        using var scope = NewDisposeScope();
        var sd = new Hashtable();
        foreach (var (k, t) in classifier.state_dict()) sd[k] = t.detach().cpu().contiguous();
        var root = new Hashtable
        {
            ["epoch"] = nextEpoch, ["arch"] = arch, ["conv"] = conv, ["state_dict"] = sd, ["optimizer"] = sgd.ToPickle(),
            ["prec1"] = prec1, ["prec5"] = prec5, ["best_prec1"] = bestPrec1, ["best_epoch"] = bestEpoch,
        };
        AtomicFile.Write(path, s => TorchZipWriter.Write(s, root));
    }

    /// <summary>Reads a checkpoint written by <see cref="Save"/>.</summary>
    /// <exception cref="InvalidDataException">Unreadable, or not a linear classifier's checkpoint; names the file.</exception>
    public static ClassifierCheckpoint Load(string path)
    {
        var root = NativeLifetime.LoadOwned(() => TorchPickle.Load(path));
        if (root is not Hashtable h || !h.ContainsKey("state_dict") || !h.ContainsKey("conv"))
            throw new InvalidDataException($"{path}: not a linear classifier checkpoint (expected 'epoch', 'conv', 'state_dict', 'optimizer').");
        return TorchPickle.Guard(path, () =>
        {
            var sd = StateDictLoader.ExtractStateDict(h, path, StateDictOptions.Default);
            try
            {
                return new ClassifierCheckpoint
                {
                    Epoch = System.Convert.ToInt32(h["epoch"]),
                    Arch = h["arch"] as string ?? "",
                    Conv = System.Convert.ToInt32(h["conv"]),
                    StateDict = sd,
                    Optimizer = h["optimizer"] is null ? null : SgdState.FromPickle(h["optimizer"], path),
                    Prec1 = Number(h["prec1"]), Prec5 = Number(h["prec5"]), BestPrec1 = Number(h["best_prec1"]),
                    BestEpoch = h["best_epoch"] is null ? -1 : System.Convert.ToInt32(h["best_epoch"]),
                };
            }
            catch
            {
                foreach (var t in sd.Values) t.Dispose();
                throw;
            }
        });
    }

    static double Number(object? o) => o is null ? 0 : System.Convert.ToDouble(o);

    public void Dispose()
    {
        foreach (var t in StateDict.Values) t.Dispose();
        Optimizer?.Dispose();
    }
}
