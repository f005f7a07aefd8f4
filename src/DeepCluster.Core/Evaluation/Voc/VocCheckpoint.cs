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
        EvalCheckpointFile.Save(path, model, optimizer, new Hashtable
        {
            ["iteration"] = iteration, ["arch"] = arch, ["fc6_8"] = fc6To8,
        });
    }

    /// <summary>Reads a checkpoint written by <see cref="Save"/>.</summary>
    /// <exception cref="InvalidDataException">Unreadable, or not a VOC fine-tuning's checkpoint; names the file.</exception>
    public static VocCheckpoint Load(string path) =>
        EvalCheckpointFile.Load(path, "VOC fine-tuning", ["iteration", "fc6_8", "state_dict", "optimizer"], (h, sd, sgd) => new VocCheckpoint
        {
            Iteration = System.Convert.ToInt32(h["iteration"]),
            Arch = h["arch"] as string ?? "",
            Fc6To8 = System.Convert.ToBoolean(h["fc6_8"]),
            StateDict = sd,
            Optimizer = sgd,
        });

    public void Dispose()
    {
        foreach (var t in StateDict.Values) t.Dispose();
        Optimizer?.Dispose();
    }
}
