using System.Collections;
using DeepCluster.Core.IO;
using DeepCluster.Core.Native;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace DeepCluster.Core.Evaluation;

/// <summary>
/// What the eval commands' checkpoints share: a dictionary in PyTorch's zip format (<c>torch.load</c> reads it) holding
/// the trained module's <c>state_dict</c>, its SGD state as <c>optimizer</c> and the command's own fields; written
/// atomically, read back with its keys checked and every tensor freed when reading fails.
/// </summary>
static class EvalCheckpointFile
{
    /// <summary>Writes <paramref name="fields"/> with <c>state_dict</c> and <c>optimizer</c> added, atomically.</summary>
    public static void Save(string path, nn.Module module, SGD optimizer, Hashtable fields)
    {
        using var sgd = SgdState.Capture(optimizer);
        using var scope = NewDisposeScope();
        var sd = new Hashtable();
        foreach (var (k, t) in module.state_dict()) sd[k] = t.detach().cpu().contiguous();
        fields["state_dict"] = sd;
        fields["optimizer"] = sgd.ToPickle();
        AtomicFile.Write(path, s => TorchZipWriter.Write(s, fields));
    }

    /// <summary>
    /// Reads a checkpoint of <see cref="Save"/>: every key of <paramref name="keys"/> but <c>optimizer</c> must be there.
    /// </summary>
    /// <exception cref="InvalidDataException">Unreadable, or not a <paramref name="what"/> checkpoint; names the file.</exception>
    public static T Load<T>(string path, string what, string[] keys,
                            Func<Hashtable, Dictionary<string, Tensor>, SgdState?, T> build)
    {
        var root = NativeLifetime.LoadOwned(() => TorchPickle.Load(path));
        if (root is not Hashtable h || !keys.Where(k => k != "optimizer").All(h.ContainsKey))
            throw new InvalidDataException($"{path}: not a {what} checkpoint (expected {string.Join(", ", keys.Select(k => $"'{k}'"))}).");
        return TorchPickle.Guard(path, () =>
        {
            var sd = StateDictLoader.ExtractStateDict(h, path, StateDictOptions.Default);
            try { return build(h, sd, h["optimizer"] is null ? null : SgdState.FromPickle(h["optimizer"], path)); }
            catch
            {
                foreach (var t in sd.Values) t.Dispose();
                throw;
            }
        });
    }
}
