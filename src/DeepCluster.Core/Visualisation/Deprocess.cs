using DeepCluster.Core.Data;

namespace DeepCluster.Core.Visualisation;

/// <summary>
/// The published <c>deprocess_image</c>: an optimised image (3 × H × W floats, any scale) centred on 0, scaled to a
/// standard deviation of 0.1 (population standard deviation, plus 1e-5), shifted to 0.5, clipped to [0, 1] and
/// multiplied by 255, each value truncated to a byte as NumPy's <c>astype('uint8')</c> does.
/// </summary>
public static class Deprocess
{
    /// <summary>The RGB image of <paramref name="chw"/> (channel-major, 3 × <paramref name="height"/> × <paramref name="width"/>).</summary>
    public static RgbImage ToImage(ReadOnlySpan<float> chw, int height, int width)
    {
        int plane = height * width;
        if (chw.Length != 3 * plane) throw new ArgumentException($"expected 3 × {height} × {width} values, got {chw.Length}.");
        double mean = 0;
        foreach (var v in chw) mean += v;
        mean /= chw.Length;
        double var = 0;
        foreach (var v in chw) var += (v - mean) * (v - mean);
        double std = Math.Sqrt(var / chw.Length);
        float m = (float)mean, s = (float)(std + 1e-5);
        var px = new byte[3 * plane];
        for (int c = 0; c < 3; c++)
            for (int i = 0; i < plane; i++)
            {
                float v = (chw[c * plane + i] - m) / s * 0.1f + 0.5f;
                v = Math.Clamp(v, 0f, 1f) * 255f;
                px[i * 3 + c] = (byte)Math.Clamp(v, 0f, 255f);
            }
        return new RgbImage(width, height, px);
    }
}
