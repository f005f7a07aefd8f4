using DeepCluster.Core.IO;
using DeepCluster.Core.Models;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace DeepCluster.Core.Training;

/// <summary>
/// Moves a DeepCluster model (and its trunk optimiser) to and from checkpoint files in main.py's format
/// (<c>{epoch, arch, state_dict, optimizer}</c>), checking that a file fits the architecture it is loaded into.
/// </summary>
public static class ModelFiles
{
    /// <summary>Writes the model and optimiser atomically; <paramref name="epoch"/> is stored as given (main.py stores epoch + 1).</summary>
    public static void Save(string path, DeepClusterNet model, SGD optimizer, int epoch, string arch)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        Checkpoint.Save(path, epoch, arch, model, optimizer);
    }

    /// <summary>A model without head, with the trunk weights of <paramref name="path"/> (for the feature pass).</summary>
    public static DeepClusterNet LoadModel(string path, string arch, bool sobel, Device device)
    {
        var model = ModelFactory.Create(arch, sobel, numClasses: 0);
        try
        {
            using var data = Checkpoint.Load(path);
            CheckArch(path, data.Arch, arch);
            CheckSobel(path, data.StateDict, model);
            var trunk = data.StateDict.Where(kv => !kv.Key.StartsWith("top_layer.")).ToDictionary(kv => kv.Key, kv => kv.Value);
            StateDictLoader.LoadInto(model, trunk, strict: true, path);
            return model.to(device);
        }
        catch { model.Dispose(); throw; }
    }

    /// <summary>
    /// Loads <paramref name="path"/> into <paramref name="model"/> (with its head when <paramref name="includeHead"/>,
    /// else the head is dropped as main.py's --resume does) and the momentum buffers into <paramref name="optimizer"/>.
    /// Returns the epoch stored in the file.
    /// </summary>
    public static int Restore(string path, DeepClusterNet model, SGD optimizer, bool includeHead, string expectedArch)
    {
        using var data = Checkpoint.Load(path);
        CheckArch(path, data.Arch, expectedArch);
        CheckSobel(path, data.StateDict, model);
        var sd = includeHead ? data.StateDict
            : data.StateDict.Where(kv => !kv.Key.StartsWith("top_layer.")).ToDictionary(kv => kv.Key, kv => kv.Value);
        if (!includeHead && model.TopLayer is not null)
        {
            // Keep the module's own (fresh) head: only the trunk comes from the file.
            foreach (var (name, t) in model.state_dict().Where(kv => kv.Key.StartsWith("top_layer."))) sd[name] = t;
        }
        StateDictLoader.LoadInto(model, sd, strict: true, path);
        data.Optimizer?.RestoreInto(optimizer);
        return data.Epoch;
    }

    /// <summary>The architecture recorded in a checkpoint ("" when it has none).</summary>
    public static string ReadArch(string path)
    {
        using var data = Checkpoint.Load(path);
        return data.Arch;
    }

    /// <summary>The file and the run agree on the Sobel filtering (the released models all have it: they need --sobel).</summary>
    static void CheckSobel(string path, IReadOnlyDictionary<string, Tensor> stateDict, DeepClusterNet model)
    {
        var fileHas = stateDict.ContainsKey("sobel.0.weight");
        if (fileHas && !model.UsesSobel)
            throw new InvalidDataException($"{path}: a model with Sobel filtering (sobel.0.weight), but this run has no --sobel.");
        if (!fileHas && model.UsesSobel)
            throw new InvalidDataException($"{path}: a model without Sobel filtering, but this run has --sobel.");
    }

    static void CheckArch(string path, string found, string expected)
    {
        if (found.Length > 0 && found != expected)
            throw new InvalidDataException($"{path}: checkpoint of architecture '{found}', but this run uses '{expected}'.");
    }
}
