using System.Collections;
using DeepCluster.Core.IO;
using DeepCluster.Core.Native;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace DeepCluster.Core.Evaluation.Voc;

/// <summary>
/// A VOC fine-tuning's checkpoint, in PyTorch's zip format (<c>torch.load</c> reads it):
/// <c>{'iteration': iterations done, 'arch', 'fc6_8', 'state_dict': the whole network with its 20-way top_layer,
/// 'optimizer'}</c>. The published script saves nothing; this is what a killed run continues from.
/// </summary>
public sealed class VocCheckpoint : IDisposable
{
    /// <summary>Iterations done (the next one to run).</summary>
    public required int Iteration { get; init; }
    public required string Arch { get; init; }
    public required bool Fc6To8 { get; init; }
    public required Dictionary<string, Tensor> StateDict { get; init; }
    public SgdState? Optimizer { get; init; }

    /// <summary>Writes the network and its optimizer atomically.</summary>
    public static void Save(string path, int iteration, string arch, bool fc6To8, nn.Module model, SGD optimizer)
    {
        using var sgd = SgdState.Capture(optimizer);
        using var scope = NewDisposeScope();
        var sd = new Hashtable();
        foreach (var (k, t) in model.state_dict()) sd[k] = t.detach().cpu().contiguous();
        var root = new Hashtable
        {
            ["iteration"] = iteration, ["arch"] = arch, ["fc6_8"] = fc6To8, ["state_dict"] = sd, ["optimizer"] = sgd.ToPickle(),
        };
        AtomicFile.Write(path, s => TorchZipWriter.Write(s, root));
    }

    /// <summary>Reads a checkpoint written by <see cref="Save"/>.</summary>
    /// <exception cref="InvalidDataException">Unreadable, or not a VOC fine-tuning's checkpoint; names the file.</exception>
    public static VocCheckpoint Load(string path)
    {
        var root = NativeLifetime.LoadOwned(() => TorchPickle.Load(path));
        if (root is not Hashtable h || !h.ContainsKey("state_dict") || !h.ContainsKey("iteration") || !h.ContainsKey("fc6_8"))
            throw new InvalidDataException($"{path}: not a VOC fine-tuning checkpoint (expected 'iteration', 'fc6_8', 'state_dict', 'optimizer').");
        return TorchPickle.Guard(path, () =>
        {
            var sd = StateDictLoader.ExtractStateDict(h, path, StateDictOptions.Default);
            try
            {
                return new VocCheckpoint
                {
                    Iteration = System.Convert.ToInt32(h["iteration"]),
                    Arch = h["arch"] as string ?? "",
                    Fc6To8 = System.Convert.ToBoolean(h["fc6_8"]),
                    StateDict = sd,
                    Optimizer = h["optimizer"] is null ? null : SgdState.FromPickle(h["optimizer"], path),
                };
            }
            catch
            {
                foreach (var t in sd.Values) t.Dispose();
                throw;
            }
        });
    }

    public void Dispose()
    {
        foreach (var t in StateDict.Values) t.Dispose();
        Optimizer?.Dispose();
    }
}
