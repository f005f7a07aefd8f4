namespace DeepCluster.Core.Evaluation.Retrieval;

/// <summary>One R-MAC region of a feature map, in feature-map cells: left, top, width, height.</summary>
public readonly record struct RmacRegion(int X, int Y, int Width, int Height);

/// <summary>
/// Tolias et al.'s R-MAC region grid, ported from the published <c>eval_retrieval.py</c>'s
/// <c>get_rmac_region_coordinates</c> (itself "almost verbatim" from their Matlab code): at level l = 1..L, square regions
/// of side ⌊2·min(H, W)/(l + 1)⌋, l regions along the short side and l + k along the long one, where k ∈ 1..6 is chosen
/// so neighbouring regions overlap by about 40 %; regions that would cross the border are shifted back inside.
/// The step search runs in float32 as numpy does (its <c>steps</c> array is float32), the rest in double.
/// </summary>
public static class RmacRegions
{
    /// <summary>Desired overlap of neighbouring regions.</summary>
    public const float Overlap = 0.4f;

    /// <summary>The regions of an <paramref name="height"/> × <paramref name="width"/> map over <paramref name="levels"/> levels, in the published order (level, then row, then column).</summary>
    public static RmacRegion[] Coordinates(int height, int width, int levels)
    {
        if (height < 1 || width < 1) throw new ArgumentOutOfRangeException(nameof(height), $"feature map {height}×{width} is empty.");
        if (levels < 1) throw new ArgumentOutOfRangeException(nameof(levels), $"R-MAC needs at least one level, got {levels}.");
        int w = Math.Min(height, width);
        // steps(idx) regions for the long dimension; argmin is the first minimum, +1 for Matlab's 1-indexing.
        int idx = 0;
        float best = float.PositiveInfinity;
        for (int i = 0; i < 6; i++)
        {
            float steps = 2 + i;
            float b = (Math.Max(height, width) - w) / (steps - 1f);
            float w2 = (float)((long)w * w);
            float v = MathF.Abs((w2 - w * b) / w2 - Overlap);
            if (v < best) { best = v; idx = i; }
        }
        idx += 1;
        int wd = height < width ? idx : 0, hd = height > width ? idx : 0;

        var regions = new List<RmacRegion>();
        for (int l = 1; l <= levels; l++)
        {
            double wl = Math.Floor(2.0 * w / (l + 1));
            double wl2 = Math.Floor(wl / 2 - 1);
            var cenW = Centres(width, wl, wl2, l + wd);
            var cenH = Centres(height, wl, wl2, l + hd);
            foreach (var y in cenH)
                foreach (var x in cenW)
                {
                    int side = (int)Math.Round(wl), left = (int)Math.Round(x), top = (int)Math.Round(y);
                    if (left + side > width) left -= left + side - width;
                    if (top + side > height) top -= top + side - height;
                    regions.Add(new RmacRegion(left, top, side, side));
                }
        }
        return regions.ToArray();
    }

    static double[] Centres(int size, double wl, double wl2, int count)
    {
        double b = count - 1 > 0 ? (size - wl) / (count - 1) : 0;
        var c = new double[count];
        for (int k = 0; k < count; k++) c[k] = Math.Floor(wl2 + b * k) - wl2;
        return c;
    }
}
