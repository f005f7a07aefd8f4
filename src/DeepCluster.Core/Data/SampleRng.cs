namespace DeepCluster.Core.Data;

/// <summary>
/// A small deterministic PRNG (SplitMix64) for data augmentation. <see cref="For"/> derives an independent
/// stream from (seed, epoch, key), so a sample's augmentation does not depend on which worker draws it or when.
/// </summary>
public sealed class SampleRng
{
    ulong _state;

    /// <summary>A generator started from <paramref name="state"/>.</summary>
    public SampleRng(ulong state) => _state = state;

    /// <summary>A generator that continues from where this one is now (this one is not advanced).</summary>
    internal SampleRng Copy() => new(_state);

    /// <summary>The stream of sample <paramref name="key"/> in <paramref name="epoch"/> of a run seeded with <paramref name="seed"/>.</summary>
    public static SampleRng For(long seed, int epoch, long key)
    {
        ulong s = Mix((ulong)seed ^ 0x5DEECE66DUL);
        s = Mix(s ^ (ulong)(uint)epoch);
        s = Mix(s ^ (ulong)key);
        return new SampleRng(s);
    }

    /// <summary>Next 64 random bits.</summary>
    public ulong NextUInt64()
    {
        ulong z = _state += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>Uniform double in [0, 1).</summary>
    public double NextDouble() => (NextUInt64() >> 11) * (1.0 / (1UL << 53));

    /// <summary>Uniform double in [<paramref name="low"/>, <paramref name="high"/>).</summary>
    public double Uniform(double low, double high) => low + (high - low) * NextDouble();

    /// <summary>Uniform integer in [<paramref name="low"/>, <paramref name="highExclusive"/>), like <c>torch.randint</c>.</summary>
    public int NextInt(int low, int highExclusive)
    {
        if (highExclusive <= low) throw new ArgumentOutOfRangeException(nameof(highExclusive), $"empty range [{low}, {highExclusive})");
        ulong range = (ulong)((long)highExclusive - low);
        return (int)(low + (long)(((NextUInt64() >> 32) * range) >> 32));
    }

    static ulong Mix(ulong z)
    {
        z += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}
