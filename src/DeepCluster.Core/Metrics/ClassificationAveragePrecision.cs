namespace DeepCluster.Core.Metrics;

/// <summary>
/// Per-class average precision of multi-label classification as the published <c>eval_voc_classif.py</c> measures it:
/// scikit-learn's <c>average_precision_score</c> on the images whose label is not 0 (difficult), positives being
/// label 1. That is <c>AP = Σₙ (Rₙ − Rₙ₋₁) · Pₙ</c> over the distinct scores in decreasing order (tied scores form one
/// threshold: they enter the curve together), no interpolation, R₀ = 0. A class with no positive gets 0, as
/// scikit-learn returns (with a warning).
/// </summary>
public static class ClassificationAveragePrecision
{
    /// <summary>The AP of one class: <paramref name="scores"/> and <paramref name="labels"/> (1, −1, or 0 = difficult) per image.</summary>
    public static double Compute(ReadOnlySpan<float> scores, ReadOnlySpan<int> labels)
    {
        if (scores.Length != labels.Length) throw new ArgumentException($"{scores.Length} scores for {labels.Length} labels");
        var kept = new List<(float Score, bool Positive)>(scores.Length);
        for (int i = 0; i < scores.Length; i++)
        {
            if (labels[i] == 0) continue;
            if (float.IsNaN(scores[i])) throw new ArgumentException($"score {i} is NaN");
            kept.Add((scores[i], labels[i] > 0));
        }
        int positives = kept.Count(k => k.Positive);
        if (positives == 0) return 0;
        kept.Sort((a, b) => b.Score.CompareTo(a.Score));
        double ap = 0, previousRecall = 0;
        int tp = 0, fp = 0;
        for (int i = 0; i < kept.Count; i++)
        {
            if (kept[i].Positive) tp++; else fp++;
            if (i + 1 < kept.Count && kept[i + 1].Score == kept[i].Score) continue;   // the threshold ends with its last tie
            double recall = (double)tp / positives, precision = (double)tp / (tp + fp);
            ap += (recall - previousRecall) * precision;
            previousRecall = recall;
        }
        return ap;
    }

    /// <summary>
    /// AP of every class and their mean: <paramref name="scores"/> and <paramref name="labels"/> are images × classes,
    /// row-major.
    /// </summary>
    public static (double[] PerClass, double Mean) ComputeAll(float[] scores, int[] labels, int classes)
    {
        if (classes <= 0 || scores.Length != labels.Length || scores.Length % classes != 0)
            throw new ArgumentException($"{scores.Length} scores and {labels.Length} labels do not make rows of {classes} classes");
        int n = scores.Length / classes;
        var perClass = new double[classes];
        var s = new float[n];
        var l = new int[n];
        for (int c = 0; c < classes; c++)
        {
            for (int i = 0; i < n; i++) { s[i] = scores[i * classes + c]; l[i] = labels[i * classes + c]; }
            perClass[c] = Compute(s, l);
        }
        return (perClass, perClass.Average());
    }
}
