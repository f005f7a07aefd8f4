using DeepCluster.Core.IO;
using DeepCluster.Core.IO.Caffe;
using DeepCluster.Core.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace DeepCluster.Core.Evaluation;

/// <summary>
/// Opens the model an evaluation judges: a checkpoint of <c>deepcluster train</c> or a released PyTorch model (zip or
/// legacy format, <c>features.module.*</c> keys, with or without <c>optimizer</c>), as the published
/// <c>util.load_model</c> does: the architecture from the file's <c>arch</c>, Sobel when it holds
/// <c>sobel.0.weight</c>, the number of clusters from <c>top_layer.bias</c>; or a released Caffe model
/// (<c>.caffemodel</c>, see <see cref="CaffeImport"/>), its BGR 0–255 input convention folded into its first conv.
/// Without a file, a randomly initialised model (a baseline).
/// </summary>
public static class EvaluatedModel
{
    /// <summary>
    /// Loads <paramref name="path"/> (or, when null, builds <paramref name="arch"/> with weights drawn from
    /// <paramref name="seed"/>), in eval mode on <paramref name="device"/>. <paramref name="arch"/>, when given, must
    /// match the file's. The clustering head (<c>top_layer</c>) is dropped unless <paramref name="withHead"/>, which
    /// keeps the file's head (its size read from the file) when it has one.
    /// </summary>
    /// <exception cref="ArgumentException">No architecture to build, or the file's differs from <paramref name="arch"/>.</exception>
    /// <exception cref="InvalidDataException">The file is not a checkpoint, or its weights do not fit the architecture (one line).</exception>
    public static DeepClusterNet Load(string? path, string? arch, bool sobel, long seed, Device device, bool withHead = false)
    {
        if (path is null)
        {
            if (string.IsNullOrEmpty(arch)) throw new ArgumentException("--arch: give the architecture of the randomly initialised model, or a --model file.");
            using (random.manual_seed(seed)) { }
            var random_ = ModelFactory.Create(arch, sobel, numClasses: 0);
            random_.eval();
            return random_.to(device);
        }
        if (!File.Exists(path)) throw new FileNotFoundException($"--model {path}: no such file.");
        var model = CaffeNet.IsCaffeModel(path) || CaffeNet.IsPrototxt(path) ? LoadCaffe(path, withHead) : LoadPyTorch(path, arch, withHead);
        if (!string.IsNullOrEmpty(arch) && model.Arch != arch)
        {
            model.Dispose();
            throw new InvalidDataException($"--model {path}: a model of architecture '{model.Arch}', but --arch says '{arch}'.");
        }
        model.eval();
        return model.to(device);
    }

    static DeepClusterNet LoadCaffe(string path, bool withHead)
    {
        try { return CaffeImport.Load(path, withHead); }
        catch (InvalidDataException e) { throw new InvalidDataException("--model " + FirstLine(e.Message)); }
    }

    static DeepClusterNet LoadPyTorch(string path, string? arch, bool withHead)
    {
        using var data = Checkpoint.Load(path);
        var found = data.Arch;
        if (found.Length > 0 && !ModelFactory.Architectures.Contains(found))
            throw new InvalidDataException($"--model {path}: a model of architecture '{found}'; this port evaluates {string.Join(", ", ModelFactory.Architectures)}.");
        if (!string.IsNullOrEmpty(arch) && found.Length > 0 && arch != found)
            throw new InvalidDataException($"--model {path}: a model of architecture '{found}', but --arch says '{arch}'.");
        var use = found.Length > 0 ? found : arch;
        if (string.IsNullOrEmpty(use)) throw new ArgumentException($"--model {path}: the file names no architecture; give --arch.");
        var clusters = withHead && data.StateDict.TryGetValue("top_layer.bias", out var headBias) ? (int)headBias.shape[0] : 0;
        var weights = data.StateDict.Where(kv => clusters > 0 || !kv.Key.StartsWith("top_layer.", StringComparison.Ordinal))
            .ToDictionary(kv => kv.Key, kv => kv.Value);
        var model = ModelFactory.Create(use, sobel: weights.ContainsKey("sobel.0.weight"), numClasses: clusters);
        try
        {
            StateDictLoader.LoadInto(model, weights, strict: true, path);
        }
        catch (InvalidDataException e)
        {
            model.Dispose();
            var lines = e.Message.Split('\n');
            var first = lines.Length > 1 ? lines[1].Trim() : "";
            if (first.Length > 160) first = first[..160] + "…";
            throw new InvalidDataException($"--model {path}: its weights do not fit {use}{(found.Length == 0 ? " (the file names no architecture)" : "")}: {first}");
        }
        return model;
    }

    /// <summary>The first line of a (possibly multi-line) message, shortened.</summary>
    static string FirstLine(string message)
    {
        var lines = message.Split('\n', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        var line = lines.Length > 1 ? lines[0].TrimEnd(':') + ": " + lines[1] : lines[0];
        return line.Length > 400 ? line[..400] + "…" : line;
    }
}
