using System.Collections;
using DeepCluster.Core.Native;
using TorchSharp.Modules;
using TorchSharp.PyBridge;
using static TorchSharp.torch;

namespace DeepCluster.Core.IO;

/// <summary>One SGD parameter group, with PyTorch's keys (<c>params</c> are indices into the optimizer's parameter list).</summary>
public sealed record SgdParamGroup(double Lr, double Momentum, double Dampening, double WeightDecay, bool Nesterov,
                                   bool Maximize, IReadOnlyList<int> Params);

/// <summary>
/// The state of an SGD optimizer in PyTorch's layout: <c>{'state': {index: {'momentum_buffer': t}}, 'param_groups': [...]}</c>.
/// Owns its momentum buffers (copies).
/// </summary>
public sealed class SgdState : IDisposable
{
    /// <summary>The parameter groups, in order.</summary>
    public required IReadOnlyList<SgdParamGroup> ParamGroups { get; init; }

    /// <summary>Momentum buffers by parameter index; parameters that have none (no step yet, or momentum 0) are absent.</summary>
    public required Dictionary<int, Tensor> MomentumBuffers { get; init; }

    /// <summary>Copies the state out of a TorchSharp SGD optimizer.</summary>
    public static SgdState Capture(SGD optimizer)
    {
        using var scope = NewDisposeScope();   // temporaries die here, not in the finalizer; the copies are detached
        var sd = optimizer.state_dict();
        var groups = new List<SgdParamGroup>();
        var buffers = new Dictionary<int, Tensor>();
        for (var g = 0; g < sd.Options.Count; g++)
        {
            var o = (SGD.Options)sd.Options[g];
            var indices = sd.StateIndexRef[g];
            groups.Add(new SgdParamGroup(o.LearningRate.GetValueOrDefault(), o.momentum.GetValueOrDefault(),
                o.dampening.GetValueOrDefault(), o.weight_decay.GetValueOrDefault(), o.nesterov.GetValueOrDefault(),
                o.maximize.GetValueOrDefault(), indices.ToList()));
            foreach (var i in indices)
                if (((SGD.State)sd.State[i]).momentum_buffer is { } buf && !buf.IsInvalid)
                    buffers[i] = buf.detach().cpu().contiguous().clone().DetachFromDisposeScope();
        }
        return new SgdState { ParamGroups = groups, MomentumBuffers = buffers };
    }

    /// <summary>
    /// Restores hyper-parameters and momentum buffers into <paramref name="optimizer"/>, which must have been built over
    /// the same parameters in the same order (as PyTorch's <c>optimizer.load_state_dict</c> requires).
    /// </summary>
    /// <exception cref="InvalidDataException">The groups or their sizes differ, or a buffer's shape does not match its parameter.</exception>
    public void RestoreInto(SGD optimizer)
    {
        using var scope = NewDisposeScope();   // temporaries die here, not in the finalizer; new buffers are detached
        var sd = optimizer.state_dict();
        if (sd.Options.Count != ParamGroups.Count)
            throw new InvalidDataException($"optimizer state has {ParamGroups.Count} parameter groups, the optimizer {sd.Options.Count}.");
        var parameters = optimizer.parameters().ToList();
        for (var g = 0; g < ParamGroups.Count; g++)
        {
            var group = ParamGroups[g];
            var indices = sd.StateIndexRef[g];
            if (indices.Count != group.Params.Count)
                throw new InvalidDataException($"optimizer state group {g} has {group.Params.Count} parameters, the optimizer {indices.Count}.");
            var o = (SGD.Options)sd.Options[g];
            o.LearningRate = group.Lr;
            o.momentum = group.Momentum;
            o.dampening = group.Dampening;
            o.weight_decay = group.WeightDecay;
            o.nesterov = group.Nesterov;
            o.maximize = group.Maximize;
            for (var j = 0; j < indices.Count; j++)
            {
                var state = (SGD.State)sd.State[indices[j]];
                if (!MomentumBuffers.TryGetValue(group.Params[j], out var buf)) continue;
                var param = parameters[indices[j]];
                if (!buf.shape.SequenceEqual(param.shape))
                    throw new InvalidDataException($"momentum buffer {group.Params[j]} has shape ({string.Join(", ", buf.shape)}), its parameter ({string.Join(", ", param.shape)}).");
                state.momentum_buffer?.Dispose();
                state.momentum_buffer = buf.to(param.dtype, param.device).clone().DetachFromDisposeScope();
            }
        }
    }

    /// <summary>PyTorch's <c>SGD.state_dict()</c> as pickle-ready .NET objects.</summary>
    internal Hashtable ToPickle()
    {
        var state = new Hashtable();
        foreach (var (i, buf) in MomentumBuffers) state[i] = new Hashtable { ["momentum_buffer"] = buf };
        var groups = new ArrayList();
        foreach (var g in ParamGroups)
            groups.Add(new Hashtable
            {
                ["lr"] = g.Lr, ["momentum"] = g.Momentum, ["dampening"] = g.Dampening, ["weight_decay"] = g.WeightDecay,
                ["nesterov"] = g.Nesterov, ["maximize"] = g.Maximize, ["foreach"] = null, ["differentiable"] = false,
                ["params"] = new ArrayList(g.Params.ToArray()),
            });
        return new Hashtable { ["state"] = state, ["param_groups"] = groups };
    }

    /// <summary>Reads PyTorch's SGD state dict layout back.</summary>
    internal static SgdState FromPickle(object? o, string path)
    {
        if (o is not Hashtable { } h || h["param_groups"] is not ArrayList groups || h["state"] is not Hashtable state)
            throw new InvalidDataException($"{path}: 'optimizer' is not an SGD state dict ({{'state', 'param_groups'}}).");
        var parsed = groups.Cast<Hashtable>().Select(g => new SgdParamGroup(
            Number(g["lr"]), Number(g["momentum"]), Number(g["dampening"]), Number(g["weight_decay"]),
            g["nesterov"] is true, g["maximize"] is true,
            ((ArrayList)g["params"]!).Cast<object>().Select(System.Convert.ToInt32).ToList())).ToList();
        var buffers = new Dictionary<int, Tensor>();
        foreach (DictionaryEntry e in state)
            if (e.Value is Hashtable s && s["momentum_buffer"] is Tensor t) buffers[System.Convert.ToInt32(e.Key)] = t;
        return new SgdState { ParamGroups = parsed, MomentumBuffers = buffers };
    }

    static double Number(object? o) => o is null ? 0 : System.Convert.ToDouble(o);

    /// <summary>Disposes the momentum buffers.</summary>
    public void Dispose()
    {
        foreach (var t in MomentumBuffers.Values) t.Dispose();
        MomentumBuffers.Clear();
    }
}

/// <summary>What <see cref="Checkpoint.Load"/> returns; owns its tensors.</summary>
public sealed class CheckpointData : IDisposable
{
    /// <summary>The epoch to resume at (main.py stores <c>epoch + 1</c>).</summary>
    public required int Epoch { get; init; }

    /// <summary>The architecture name, e.g. <c>alexnet</c> or <c>vgg16</c>.</summary>
    public required string Arch { get; init; }

    /// <summary>The model's state dict, keys as saved (DataParallel <c>module.</c> segments removed).</summary>
    public required Dictionary<string, Tensor> StateDict { get; init; }

    /// <summary>The SGD state, or null when the file has none.</summary>
    public SgdState? Optimizer { get; init; }

    /// <summary>Disposes all tensors.</summary>
    public void Dispose()
    {
        foreach (var t in StateDict.Values) t.Dispose();
        Optimizer?.Dispose();
    }
}

/// <summary>
/// DeepCluster's <c>checkpoint.pth.tar</c>: <c>torch.save({'epoch': epoch + 1, 'arch': arch, 'state_dict': model.state_dict(),
/// 'optimizer': optimizer.state_dict()}, path)</c>, in PyTorch's zip format, which <c>torch.load</c> reads.
/// </summary>
public static class Checkpoint
{
    /// <summary>
    /// Writes a checkpoint atomically (temporary file in the same folder, then rename).
    /// Pass <paramref name="epoch"/> as stored by main.py, i.e. the next epoch to run.
    /// </summary>
    public static void Save(string path, int epoch, string arch, nn.Module model, SGD optimizer)
    {
        using var sgd = SgdState.Capture(optimizer);
        using var scope = NewDisposeScope();
        var sd = model.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.detach().cpu().contiguous());
        Save(path, epoch, arch, sd, sgd);
    }

    /// <summary>Writes a checkpoint from a state dict and an optimizer state, atomically.</summary>
    public static void Save(string path, int epoch, string arch, IReadOnlyDictionary<string, Tensor> stateDict, SgdState? optimizer)
    {
        var stateTable = new Hashtable();
        foreach (var (k, t) in stateDict) stateTable[k] = t;
        var root = new Hashtable
        {
            ["epoch"] = epoch, ["arch"] = arch, ["state_dict"] = stateTable,
            ["optimizer"] = optimizer?.ToPickle(),
        };
        using var f = new AtomicFile(path);
        TorchZipWriter.Write(f.Stream, root);
        f.Commit();
    }

    /// <summary>Reads a checkpoint written by <see cref="Save(string,int,string,nn.Module,SGD)"/> or by DeepCluster's main.py
    /// (zip or legacy format).</summary>
    /// <exception cref="InvalidDataException">Unreadable file, or not a checkpoint dict; names the file.</exception>
    public static CheckpointData Load(string path)
    {
        var root = NativeLifetime.LoadOwned(() => TorchPickle.Load(path));
        if (root is not Hashtable h || !h.ContainsKey("state_dict"))
            throw new InvalidDataException($"{path}: not a checkpoint (expected a dict with 'epoch', 'arch', 'state_dict', 'optimizer').");
        return TorchPickle.Guard(path, () =>
        {
            var sd = StateDictLoader.ExtractStateDict(h, path, StateDictOptions.Default);
            try
            {
                return new CheckpointData
                {
                    Epoch = h["epoch"] is { } e ? System.Convert.ToInt32(e) : 0,
                    Arch = h["arch"] as string ?? "",
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
}
