namespace DeepCluster.Core.Clustering;

/// <summary>
/// A sparse symmetric graph in CSR form (columns ascending in each row, duplicate entries summed), built as
/// A + Aᵀ from a kNN table like scipy's <c>csr_matrix(...) + csr_matrix(...).transpose()</c> in the
/// published <c>make_adjacencyW</c> / <c>run_pic</c>.
/// </summary>
public sealed class SymmetricGraph
{
    /// <summary>Row i's entries are at RowStart[i] .. RowStart[i+1]-1.</summary>
    public required int[] RowStart { get; init; }

    /// <summary>Column of each entry.</summary>
    public required int[] Columns { get; init; }

    /// <summary>Weight of each entry.</summary>
    public required double[] Values { get; init; }

    /// <summary>
    /// A + Aᵀ where A[i, neighbors[i, t]] = weights[i, t-1] for t = 1..width-1 (column 0 of the kNN table,
    /// the point itself, is dropped as in <c>make_adjacencyW</c>).
    /// </summary>
    /// <param name="n">Number of nodes.</param>
    /// <param name="neighbors">Row-major kNN indices [n, width].</param>
    /// <param name="width">Columns of the kNN table (neighbours + 1).</param>
    /// <param name="weights">Row-major weights [n, width-1] of columns 1..width-1.</param>
    public static SymmetricGraph FromNeighbors(int n, long[] neighbors, int width, double[] weights)
    {
        int k = width - 1;
        var keys = new long[2L * n * k];
        var vals = new double[keys.Length];
        int e = 0;
        for (int i = 0; i < n; i++)
            for (int t = 1; t < width; t++)
            {
                long j = neighbors[(long)i * width + t];
                double w = weights[(long)i * k + t - 1];
                keys[e] = (long)i * n + j; vals[e++] = w;
                keys[e] = j * n + i; vals[e++] = w;
            }
        Array.Sort(keys, vals);
        var rowStart = new int[n + 1];
        var columns = new List<int>(keys.Length);
        var values = new List<double>(keys.Length);
        for (int a = 0; a < keys.Length;)
        {
            long key = keys[a];
            double sum = 0;
            for (; a < keys.Length && keys[a] == key; a++) sum += vals[a];
            columns.Add((int)(key % n));
            values.Add(sum);
            rowStart[key / n + 1]++;
        }
        for (int i = 0; i < n; i++) rowStart[i + 1] += rowStart[i];
        return new SymmetricGraph { RowStart = rowStart, Columns = columns.ToArray(), Values = values.ToArray() };
    }
}
