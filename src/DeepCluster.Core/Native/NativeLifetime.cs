using System.Collections;
using static TorchSharp.torch;

namespace DeepCluster.Core.Native;

/// <summary>
/// Keeps libtorch tensors away from the .NET finalizer thread. A tensor that nobody disposes is freed by its
/// finalizer, on the finalizer thread, at a moment set by the garbage collector: while a compute thread is in the
/// middle of a training step. Every temporary that our code (or a library it calls) leaves behind is therefore
/// created inside a dispose scope and freed deterministically, on the thread that made it.
/// </summary>
public static class NativeLifetime
{
    /// <summary>
    /// Runs <paramref name="load"/> (a deserializer that returns an object graph holding tensors) inside a dispose
    /// scope: the tensors reachable from its result (through dictionaries, lists and arrays) are handed to the caller,
    /// who owns them; every other tensor it created on the way (e.g. the storage a view was cut from) is freed here.
    /// </summary>
    public static T LoadOwned<T>(Func<T> load) where T : class
    {
        using var scope = NewDisposeScope();
        var result = load();
        Detach(result, new HashSet<object>(ReferenceEqualityComparer.Instance));
        return result;
    }

    /// <summary>
    /// Takes every parameter and buffer of <paramref name="module"/> out of the dispose scopes they were registered in,
    /// so that a module built inside a scope keeps them when the scope frees the temporaries of its construction.
    /// </summary>
    public static void KeepModuleTensors(nn.Module module)
    {
        foreach (var (_, p) in module.named_parameters()) p.DetachFromDisposeScope();
        foreach (var (_, b) in module.named_buffers()) b.DetachFromDisposeScope();
    }

    static void Detach(object? o, HashSet<object> seen)
    {
        if (o is null || o is string || o.GetType().IsPrimitive || !seen.Add(o)) return;
        switch (o)
        {
            case Tensor t:
                t.DetachFromDisposeScope();
                break;
            case IDictionary d:
                foreach (DictionaryEntry e in d) { Detach(e.Key, seen); Detach(e.Value, seen); }
                break;
            case IEnumerable items:
                foreach (var item in items) Detach(item, seen);
                break;
        }
    }
}
