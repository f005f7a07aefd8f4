using System.Globalization;

namespace DeepCluster.Core.Visualisation;

/// <summary>The filters of a layer that <c>--filters</c> names: comma-separated numbers and ranges, e.g. <c>0,3,5-9</c>.</summary>
public static class FilterSelection
{
    /// <summary>
    /// The filters <paramref name="spec"/> names, ascending and each once; all <paramref name="channels"/> of the layer
    /// when <paramref name="spec"/> is null or empty.
    /// </summary>
    /// <exception cref="ArgumentException">A part that is not a number or range, a reversed range, or a filter outside 0..channels−1.</exception>
    public static int[] Parse(string? spec, int channels)
    {
        if (string.IsNullOrWhiteSpace(spec)) return Enumerable.Range(0, channels).ToArray();
        var chosen = new SortedSet<int>();
        foreach (var raw in spec.Split(','))
        {
            var part = raw.Trim();
            var dash = part.IndexOf('-', 1 < part.Length ? 1 : 0);
            var (a, b) = dash > 0 ? (part[..dash], part[(dash + 1)..]) : (part, part);
            if (!int.TryParse(a, NumberStyles.None, CultureInfo.InvariantCulture, out var from) ||
                !int.TryParse(b, NumberStyles.None, CultureInfo.InvariantCulture, out var to))
                throw new ArgumentException($"--filters {spec}: '{part}' is not a filter number or a range FROM-TO (e.g. 0,3,5-9).");
            if (to < from) throw new ArgumentException($"--filters {spec}: the range '{part}' ends before it starts.");
            if (to >= channels) throw new ArgumentException($"--filters {spec}: filter {to} is out of range; the layer has filters 0 to {channels - 1}.");
            for (int f = from; f <= to; f++) chosen.Add(f);
        }
        return chosen.ToArray();
    }
}
