using System.Globalization;

namespace DeepCluster.Core.Tests.Support;

/// <summary>Compares numbers a Python peer printed (space-separated reprs) with ours.</summary>
public static class PythonNumbers
{
    public static void AssertClose(string pythonLine, float[] ours, double tolerance = 1e-4)
    {
        var theirs = pythonLine.Split(' ', StringSplitOptions.RemoveEmptyEntries)
            .Select(s => double.Parse(s, CultureInfo.InvariantCulture)).ToArray();
        Assert.Equal(theirs.Length, ours.Length);
        var maxDiff = theirs.Zip(ours, (a, b) => Math.Abs(a - b)).Max();
        Assert.True(maxDiff < tolerance, $"max abs diff {maxDiff}");
    }
}
