using static TorchSharp.torch;

namespace DeepCluster.Core.Evaluation;

/// <summary>
/// The published <c>accuracy(output, target, topk)</c>: a sample counts for top-k when its target is among the k
/// highest scores (<c>output.topk(k, 1, largest=True, sorted=True)</c>; k is capped at the number of classes).
/// </summary>
public static class TopK
{
    /// <summary>How many rows of <paramref name="scores"/> (N × classes) have their <paramref name="targets"/> (int64, N) among the top <paramref name="k"/>, for each k.</summary>
    public static long[] Correct(Tensor scores, Tensor targets, params int[] k)
    {
        if (scores.dim() != 2 || targets.dim() != 1 || scores.shape[0] != targets.shape[0])
            throw new ArgumentException($"scores ({string.Join("×", scores.shape)}) and targets ({string.Join("×", targets.shape)}) do not match");
        if (k.Length == 0 || k.Any(v => v <= 0)) throw new ArgumentException("k must be positive");
        using var scope = NewDisposeScope();
        int maxk = (int)Math.Min(k.Max(), scores.shape[1]);
        var (_, pred) = scores.topk(maxk, dim: 1, largest: true, sorted: true);
        var hit = pred.eq(targets.to(pred.device).unsqueeze(1)).to_type(ScalarType.Int64);   // N × maxk, at most one 1 per row
        var cumulative = hit.cumsum(1).sum(dim: 0L).cpu();                                      // hits within the top 1..maxk
        var counts = cumulative.data<long>().ToArray();
        return k.Select(v => counts[Math.Min(v, maxk) - 1]).ToArray();
    }
}
