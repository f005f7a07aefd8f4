using System.Collections;
using System.Text;
using static TorchSharp.torch;

namespace DeepCluster.Core.IO;

/// <summary>How <see cref="StateDictLoader.Load"/> rewrites the keys of a loaded state dict.</summary>
/// <param name="StripDataParallel">Remove DataParallel's <c>module.</c> segments (<c>features.module.0.weight</c> → <c>features.0.weight</c>).</param>
/// <param name="DropTopLayer">Drop <c>top_layer.*</c>, as DeepCluster's main.py does on <c>--resume</c> (the head is re-created each epoch).</param>
public sealed record StateDictOptions(bool StripDataParallel = true, bool DropTopLayer = false)
{
    /// <summary>Strip DataParallel prefixes, keep the head.</summary>
    public static StateDictOptions Default { get; } = new();
}

/// <summary>
/// Loads PyTorch state dicts (zip format of PyTorch ≥ 1.6 and the legacy format of the released 2018 DeepCluster
/// models) and copies them into TorchSharp modules by name.
/// </summary>
public static class StateDictLoader
{
    /// <summary>
    /// Reads the state dict in <paramref name="path"/>: either a bare state dict or a checkpoint dict holding one
    /// under <c>'state_dict'</c> (<c>{'epoch','arch','state_dict','optimizer'}</c>). Keys are normalised per <paramref name="options"/>.
    /// The caller owns (disposes) the returned tensors.
    /// </summary>
    /// <exception cref="InvalidDataException">Unreadable, corrupt or truncated file, or no state dict inside; names the file.</exception>
    public static Dictionary<string, Tensor> Load(string path, StateDictOptions? options = null)
    {
        // Everything the file holds besides the state dict (a checkpoint's optimizer state, the storages views were cut
        // from) is freed when the scope ends, on this thread, rather than left to the finalizer (see NativeLifetime).
        using var scope = NewDisposeScope();
        var root = TorchPickle.Load(path);
        var result = TorchPickle.Guard(path, () => ExtractStateDict(root, path, options ?? StateDictOptions.Default));
        foreach (var t in result.Values) t.DetachFromDisposeScope();
        return result;
    }

    /// <summary>Picks the state dict out of a loaded object (bare, or under <c>'state_dict'</c>) and normalises its keys.</summary>
    internal static Dictionary<string, Tensor> ExtractStateDict(object root, string path, StateDictOptions options)
    {
        if (root is not Hashtable table)
            throw new InvalidDataException($"{path}: holds a {root.GetType().Name}, not a state dict or checkpoint dict.");
        if (table["state_dict"] is Hashtable inner) table = inner;
        var result = new Dictionary<string, Tensor>();
        foreach (DictionaryEntry e in table)
        {
            if (e.Value is not Tensor t)
                throw new InvalidDataException($"{path}: state dict entry '{e.Key}' is a {e.Value?.GetType().Name ?? "None"}, not a tensor.");
            if (e.Key is not string name) throw new InvalidDataException($"{path}: state dict key {e.Key} is not a string.");
            var key = options.StripDataParallel ? NormalizeKey(name) : name;
            if (options.DropTopLayer && key.StartsWith("top_layer.", StringComparison.Ordinal)) { t.Dispose(); continue; }
            if (!result.TryAdd(key, t))
                throw new InvalidDataException($"{path}: two entries map to '{key}' after removing 'module.'.");
        }
        return result;
    }

    /// <summary>Removes DataParallel's <c>module</c> segments from a key: <c>features.module.0.weight</c> → <c>features.0.weight</c>.</summary>
    public static string NormalizeKey(string key) =>
        string.Join('.', key.Split('.').Where(part => part != "module"));

    /// <summary>
    /// Copies <paramref name="stateDict"/> into the parameters and buffers (BatchNorm running stats, num_batches_tracked)
    /// of <paramref name="module"/>, matching by name, converting dtype and device as needed.
    /// Shape mismatches always fail; with <paramref name="strict"/>, missing and unexpected keys fail too.
    /// A missing BatchNorm <c>num_batches_tracked</c> (files from PyTorch &lt; 0.4.1) is not an error; the buffer is left as is.
    /// </summary>
    /// <param name="source">Where the state dict came from (a path), for error messages.</param>
    /// <returns>The keys the module has but the state dict lacks, and those the state dict has but the module lacks.</returns>
    /// <exception cref="InvalidDataException">The state dict does not fit the module; the message lists every offending key.</exception>
    public static (IReadOnlyList<string> Missing, IReadOnlyList<string> Unexpected) LoadInto(
        nn.Module module, IReadOnlyDictionary<string, Tensor> stateDict, bool strict = true, string? source = null)
    {
        var targets = new Dictionary<string, Tensor>();
        foreach (var (name, p) in module.named_parameters()) targets[name] = p;
        foreach (var (name, b) in module.named_buffers()) targets[name] = b;

        // Like BatchNorm's _load_from_state_dict: files from PyTorch < 0.4.1 (the released 2018 models among them)
        // have no num_batches_tracked, which is then left as it is rather than reported missing.
        var missing = targets.Keys.Where(k => !stateDict.ContainsKey(k) && !k.EndsWith(".num_batches_tracked", StringComparison.Ordinal))
            .Order().ToList();
        var unexpected = stateDict.Keys.Where(k => !targets.ContainsKey(k)).Order().ToList();
        var mismatched = targets.Where(t => stateDict.TryGetValue(t.Key, out var s) && !s.shape.SequenceEqual(t.Value.shape))
            .Select(t => $"{t.Key}: file ({string.Join(", ", stateDict[t.Key].shape)}) vs module ({string.Join(", ", t.Value.shape)})")
            .Order().ToList();

        if (mismatched.Count > 0 || (strict && (missing.Count > 0 || unexpected.Count > 0)))
        {
            var msg = new StringBuilder($"{source ?? "state dict"}: does not fit {module.GetName()}:");
            if (strict && missing.Count > 0) msg.Append($"\n  missing keys: {string.Join(", ", missing)}");
            if (strict && unexpected.Count > 0) msg.Append($"\n  unexpected keys: {string.Join(", ", unexpected)}");
            if (mismatched.Count > 0) msg.Append($"\n  shape mismatches: {string.Join("; ", mismatched)}");
            throw new InvalidDataException(msg.ToString());
        }

        using (no_grad())
        using (NewDisposeScope())   // copy_ and to() leave handles behind: freed here, not by the finalizer
        {
            foreach (var (name, target) in targets)
            {
                if (!stateDict.TryGetValue(name, out var src)) continue;
                using var converted = src.to(target.dtype, target.device);
                target.copy_(converted);
            }
        }
        return (missing, unexpected);
    }

    /// <summary>Loads <paramref name="path"/> and copies it into <paramref name="module"/> (see <see cref="LoadInto"/>).</summary>
    public static (IReadOnlyList<string> Missing, IReadOnlyList<string> Unexpected) LoadInto(
        nn.Module module, string path, bool strict = true, StateDictOptions? options = null)
    {
        var sd = Load(path, options);
        try { return LoadInto(module, sd, strict, path); }
        finally { foreach (var t in sd.Values) t.Dispose(); }
    }
}
