using System.Runtime.CompilerServices;

namespace DeepCluster.Core.Data;

/// <summary>
/// Reusable float arrays for batch images, of exact lengths (one length per batch shape: a stream needs two, its full
/// batches and its last one). <see cref="BatchLoader"/> decodes straight into a rented array, the image tensor is a view
/// of it, and the array itself travels to the consumer in the batch message; the consumer gives it back with
/// <see cref="ReturnToOwner"/> once its tensors over it are disposed. No copy is made between the decoders and the
/// model. An array that is never given back (a message lost, or one that went to another node) is an ordinary
/// garbage-collected array: nothing leaks, the pool only makes a new one. At most <see cref="MaxFreePerLength"/>
/// free arrays of each length are kept; the arrays in use are as many as the batches in flight (prefetch + pull window).
/// </summary>
public sealed class BatchBufferPool
{
    /// <summary>The pool the data loader uses unless given another.</summary>
    public static BatchBufferPool Shared { get; } = new();

    /// <summary>Which pool each rented array belongs to (weak keys: a lost array does not stay alive for it).</summary>
    static readonly ConditionalWeakTable<float[], BatchBufferPool> Owners = new();

    readonly Dictionary<int, Stack<float[]>> free = new();
    long outstanding, rented;

    /// <summary>Free arrays of one length kept for reuse; more are left to the garbage collector.</summary>
    public int MaxFreePerLength { get; }

    /// <summary>Creates an empty pool.</summary>
    public BatchBufferPool(int maxFreePerLength = 8) =>
        MaxFreePerLength = maxFreePerLength > 0 ? maxFreePerLength : throw new ArgumentOutOfRangeException(nameof(maxFreePerLength));

    /// <summary>Arrays rented and not yet given back (nor <see cref="Forget"/>ten).</summary>
    public long Outstanding => Interlocked.Read(ref outstanding);

    /// <summary>Arrays handed out so far (reused ones included).</summary>
    public long Rented => Interlocked.Read(ref rented);

    /// <summary>An array of exactly <paramref name="length"/> floats (its content is whatever it last held).</summary>
    public float[] Rent(int length)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        float[]? array = null;
        lock (free)
            if (free.TryGetValue(length, out var stack) && stack.Count > 0) array = stack.Pop();
        array ??= new float[length];
        Owners.AddOrUpdate(array, this);
        Interlocked.Increment(ref outstanding);
        Interlocked.Increment(ref rented);
        return array;
    }

    /// <summary>
    /// Gives <paramref name="array"/> back to the pool it was rented from, if any and if it is still out: an array of no
    /// pool (e.g. one deserialised from another node) or given back twice is ignored. No tensor may view it any more.
    /// </summary>
    public static void ReturnToOwner(float[]? array)
    {
        if (array is not null && Owners.TryGetValue(array, out var pool)) pool.Return(array);
    }

    /// <summary>The array leaves the pool for good (e.g. it is serialised to another node at some later moment).</summary>
    public static void Forget(float[]? array)
    {
        if (array is not null && Owners.TryGetValue(array, out var pool) && Owners.Remove(array))
            Interlocked.Decrement(ref pool.outstanding);
    }

    void Return(float[] array)
    {
        if (!Owners.Remove(array)) return;                  // given back already (by another thread)
        Interlocked.Decrement(ref outstanding);
        lock (free)
        {
            if (!free.TryGetValue(array.Length, out var stack)) free[array.Length] = stack = new Stack<float[]>();
            if (stack.Count < MaxFreePerLength) stack.Push(array);
        }
    }
}
