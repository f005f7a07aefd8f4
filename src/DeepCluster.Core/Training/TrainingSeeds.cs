namespace DeepCluster.Core.Training;

/// <summary>
/// The seeds of the training's random draws, each a pure function of <c>--seed</c> and where the draw happens, so that
/// a run resumed from any durable point draws exactly the numbers the uninterrupted run drew: the epoch's fresh head
/// from (seed, epoch), the dropout masks of a step from (seed, epoch, iteration). Nothing depends on how many numbers
/// a generator gave out before (a resumed process has not drawn them), nor on which process draws.
/// </summary>
public static class TrainingSeeds
{
    /// <summary>The seed of epoch <paramref name="epoch"/>'s head initialisation.</summary>
    public static long Head(long seed, int epoch) => Derive(seed, 1, epoch, 0);

    /// <summary>The seed of the dropout masks of iteration <paramref name="iteration"/> (0-based, within the epoch) of <paramref name="epoch"/>.</summary>
    public static long Dropout(long seed, int epoch, int iteration) => Derive(seed, 2, epoch, iteration);

    /// <summary>SplitMix64 over the parts: distinct inputs give unrelated seeds; non-negative, as torch.manual_seed prefers.</summary>
    static long Derive(long seed, int purpose, int epoch, int iteration)
    {
        ulong s = Mix((ulong)seed ^ 0xD1B54A32D192ED03UL);
        s = Mix(s ^ (ulong)purpose);
        s = Mix(s ^ (ulong)(uint)epoch);
        s = Mix(s ^ (ulong)(uint)iteration);
        return (long)(s >> 1);
    }

    static ulong Mix(ulong z)
    {
        z += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}
