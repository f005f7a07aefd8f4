using DeepCluster.Core.Experiment;
using ScottPlot;

namespace DeepCluster.Core.Report;

/// <summary>
/// The report's plots of <c>metrics.jsonl</c>, one PNG each, drawn by ScottPlot 5 (SkiaSharp, no display needed):
/// ConvNet loss, k-means objective, NMI against the previous epoch and against the labels, and the time of each phase.
/// A plot with nothing to show (no NMI yet, a dataset without labels) is left out; <see cref="Missing"/> says why.
/// </summary>
public static class ReportPlots
{
    /// <summary>Width and height of each plot, in pixels.</summary>
    public const int Width = 720, Height = 360;

    /// <summary>The plots of <paramref name="epochs"/> (in epoch order); at least the loss and objective plots when any epoch finished.</summary>
    public static IReadOnlyList<ReportFigure> Render(IReadOnlyList<EpochMetrics> epochs)
    {
        ReportFonts.Ensure();
        var figures = new List<ReportFigure>();
        if (epochs.Count == 0) return figures;
        figures.Add(Line("plot-convnet-loss", "ConvNet loss", "loss",
            [("ConvNet loss", epochs.Select(m => (m.Epoch, (double?)m.ConvnetLoss)))]));
        figures.Add(Line("plot-kmeans-loss", "Clustering objective", "clustering loss",
            [("clustering loss", epochs.Select(m => (m.Epoch, (double?)m.ClusteringLoss)))]));
        var nmi = new List<(string, IEnumerable<(int, double?)>)>();
        if (epochs.Any(m => m.NmiPrevious is not null)) nmi.Add(("NMI vs previous epoch", epochs.Select(m => (m.Epoch, m.NmiPrevious))));
        if (epochs.Any(m => m.NmiLabels is not null)) nmi.Add(("NMI vs labels", epochs.Select(m => (m.Epoch, m.NmiLabels))));
        if (nmi.Count > 0) figures.Add(Line("plot-nmi", "NMI", "NMI", nmi, fixedRange: (0, 1)));
        figures.Add(PhaseTimes(epochs));
        return figures;
    }

    /// <summary>Why the NMI plot is absent from <see cref="Render"/>'s output, or null when it is there.</summary>
    public static string? Missing(IReadOnlyList<EpochMetrics> epochs) =>
        epochs.Count == 0 ? "no epoch has finished yet"
        : epochs.All(m => m.NmiPrevious is null && m.NmiLabels is null)
            ? "NMI: none yet (the NMI against the previous epoch starts at the second epoch; the dataset has no labels)"
            : null;

    static ReportFigure Line(string id, string title, string yLabel, IReadOnlyList<(string Name, IEnumerable<(int Epoch, double? Value)> Points)> series,
                             (double Low, double High)? fixedRange = null)
    {
        var plot = new Plot();
        var palette = new ScottPlot.Palettes.Category10();
        for (var s = 0; s < series.Count; s++)
        {
            var points = series[s].Points.Where(p => p.Value is { } v && double.IsFinite(v)).ToArray();
            if (points.Length == 0) continue;
            var scatter = plot.Add.Scatter(points.Select(p => (double)p.Epoch).ToArray(), points.Select(p => p.Value!.Value).ToArray(),
                                           palette.GetColor(s));
            scatter.LineWidth = 2;
            scatter.MarkerSize = 6;
            scatter.LegendText = series[s].Name;
        }
        Frame(plot, title, yLabel);
        if (fixedRange is { } r) plot.Axes.SetLimitsY(r.Low, r.High);
        if (series.Count > 1) plot.ShowLegend(Alignment.LowerRight);
        else plot.HideLegend();
        return Figure(plot, id, title);
    }

    /// <summary>Stacked bars per epoch: feature pass, clustering, training, and the rest of the epoch (sampling, checkpoints).</summary>
    static ReportFigure PhaseTimes(IReadOnlyList<EpochMetrics> epochs)
    {
        const string title = "Time per epoch";
        var plot = new Plot();
        var palette = new ScottPlot.Palettes.Category10();
        string[] names = ["features", "clustering", "training", "other"];
        var bars = new List<Bar>();
        foreach (var m in epochs)
        {
            double[] parts = [m.FeaturesSeconds, m.ClusteringSeconds, m.TrainingSeconds,
                              Math.Max(0, m.EpochSeconds - m.FeaturesSeconds - m.ClusteringSeconds - m.TrainingSeconds)];
            var bottom = 0.0;
            for (var p = 0; p < parts.Length; p++)
            {
                if (!double.IsFinite(parts[p]) || parts[p] <= 0) continue;
                bars.Add(new Bar { Position = m.Epoch, ValueBase = bottom, Value = bottom + parts[p], FillColor = palette.GetColor(p), Size = 0.7 });
                bottom += parts[p];
            }
        }
        plot.Add.Bars(bars);
        for (var p = 0; p < names.Length; p++)
            plot.Legend.ManualItems.Add(new LegendItem { LabelText = names[p], FillColor = palette.GetColor(p) });
        Frame(plot, title, "seconds");
        plot.Axes.Margins(bottom: 0);
        plot.Axes.SetLimitsX(epochs.Min(m => m.Epoch) - 0.6, epochs.Max(m => m.Epoch) + 0.6);
        plot.ShowLegend(Alignment.UpperLeft);
        return Figure(plot, "plot-phase-times", title);
    }

    static void Frame(Plot plot, string title, string yLabel)
    {
        plot.Title(title);
        plot.XLabel("epoch");
        plot.YLabel(yLabel);
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic { IntegerTicksOnly = true };
    }

    static ReportFigure Figure(Plot plot, string id, string title) =>
        new(id, title, plot.GetImageBytes(Width, Height, ImageFormat.Png), Width, Height);
}
