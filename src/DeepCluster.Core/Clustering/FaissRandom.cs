namespace DeepCluster.Core.Clustering;

/// <summary>
/// faiss's <c>RandomGenerator</c> (a 32-bit Mersenne Twister, std::mt19937) and <c>rand_perm</c>,
/// as in faiss 1.7.x (<c>rand_int(max) = mt() % max</c>), so that k-means draws the same
/// initial centroids and the same cluster splits as faiss for the same seed.
/// </summary>
public sealed class FaissRandom
{
    const int N = 624, M = 397;
    readonly uint[] _mt = new uint[N];
    int _index;

    /// <summary>Seeds the generator like <c>std::mt19937((unsigned int)seed)</c>.</summary>
    public FaissRandom(long seed)
    {
        _mt[0] = unchecked((uint)seed);
        for (int i = 1; i < N; i++)
            _mt[i] = unchecked(1812433253u * (_mt[i - 1] ^ (_mt[i - 1] >> 30)) + (uint)i);
        _index = N;
    }

    /// <summary>The next raw 32-bit output of the Mersenne Twister.</summary>
    public uint NextUInt32()
    {
        if (_index >= N) Twist();
        uint y = _mt[_index++];
        y ^= y >> 11;
        y ^= (y << 7) & 0x9d2c5680u;
        y ^= (y << 15) & 0xefc60000u;
        y ^= y >> 18;
        return y;
    }

    /// <summary>A uniform integer in [0, max) as faiss 1.7 computes it (<c>mt() % max</c>).</summary>
    public int RandInt(int max) => (int)(NextUInt32() % (uint)max);

    /// <summary>A uniform float in [0, 1] as faiss computes it (<c>mt() / float(mt.max())</c>).</summary>
    public float RandFloat() => NextUInt32() / (float)uint.MaxValue;

    /// <summary>faiss <c>rand_perm</c>: a Fisher–Yates permutation of 0..n-1 drawn with <paramref name="seed"/>.</summary>
    public static int[] RandPerm(int n, long seed)
    {
        var perm = new int[n];
        for (int i = 0; i < n; i++) perm[i] = i;
        var rng = new FaissRandom(seed);
        for (int i = 0; i + 1 < n; i++)
        {
            int j = i + rng.RandInt(n - i);
            (perm[i], perm[j]) = (perm[j], perm[i]);
        }
        return perm;
    }

    void Twist()
    {
        for (int i = 0; i < N; i++)
        {
            uint y = (_mt[i] & 0x80000000u) | (_mt[(i + 1) % N] & 0x7fffffffu);
            uint v = _mt[(i + M) % N] ^ (y >> 1);
            if ((y & 1) != 0) v ^= 0x9908b0dfu;
            _mt[i] = v;
        }
        _index = 0;
    }
}
