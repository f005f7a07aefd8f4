using DeepCluster.Core.Data;

namespace DeepCluster.Core.Visualisation;

/// <summary>
/// Tiles images into one picture, row by row: every cell as large as the largest tile, each tile centred in its cell,
/// cells separated (and framed) by a white gap.
/// </summary>
public static class ImageGrid
{
    /// <summary>Columns of a near-square grid for <paramref name="count"/> tiles: <c>ceil(√count)</c>.</summary>
    public static int SquareColumns(int count) => Math.Max(1, (int)Math.Ceiling(Math.Sqrt(count)));

    /// <summary>The grid of <paramref name="tiles"/> in <paramref name="columns"/> columns (default: near-square).</summary>
    /// <exception cref="ArgumentException">No tiles.</exception>
    public static RgbImage Compose(IReadOnlyList<RgbImage> tiles, int? columns = null, int gap = 2, byte background = 255)
    {
        if (tiles.Count == 0) throw new ArgumentException("a grid needs at least one image.", nameof(tiles));
        int cols = Math.Min(columns ?? SquareColumns(tiles.Count), tiles.Count);
        int rows = (tiles.Count + cols - 1) / cols;
        int cw = tiles.Max(t => t.Width), ch = tiles.Max(t => t.Height);
        int width = checked(cols * (cw + gap) + gap), height = checked(rows * (ch + gap) + gap);
        var px = new byte[checked(width * height * 3)];
        Array.Fill(px, background);
        for (int t = 0; t < tiles.Count; t++)
        {
            var tile = tiles[t];
            int x0 = gap + (t % cols) * (cw + gap) + (cw - tile.Width) / 2;
            int y0 = gap + (t / cols) * (ch + gap) + (ch - tile.Height) / 2;
            for (int y = 0; y < tile.Height; y++)
                Array.Copy(tile.Pixels, y * tile.Width * 3, px, ((y0 + y) * width + x0) * 3, tile.Width * 3);
        }
        return new RgbImage(width, height, px);
    }
}
