using System.Globalization;
using System.Net;
using System.Text;
using DeepCluster.Core.Experiment;

namespace DeepCluster.Core.Report;

/// <summary>
/// The HTML of <c>report.html</c>: a summary of the configuration and of the last epoch, the plots, and the cluster
/// rows, every picture a <c>data:</c> URI. A small script marks <c>&lt;body data-images&gt;</c> once the page has
/// loaded: <c>ok N</c> when every one of its N images decoded, else <c>broken M of N</c> (read back by the tests through
/// a headless browser), and <c>data-errors</c> with the first script error, if any.
/// </summary>
static class ReportPage
{
    static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    public static string Html(ExperimentFolder folder, TrainConfig config, IReadOnlyList<EpochMetrics> metrics,
                              IReadOnlyList<ReportFigure> plots, IReadOnlyList<ClusterRow> rows, IReadOnlyList<string> notes)
    {
        var name = Path.GetFileName(folder.Root.TrimEnd(Path.DirectorySeparatorChar));
        var h = new StringBuilder();
        h.Append("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n")
         .Append("<title>DeepCluster report: ").Append(E(name)).Append("</title>\n")
         .Append("<style>\n").Append(Style).Append("</style>\n</head>\n<body data-images=\"pending\">\n")
         .Append("<h1>DeepCluster report: ").Append(E(name)).Append("</h1>\n");

        h.Append("<table class=\"summary\">\n");
        Row(h, "folder", folder.Root);
        Row(h, "data", $"{config.Data} ({config.DataFormat}{(config.Limit is { } l ? $", first {l} images" : "")})");
        Row(h, "model", $"{config.Arch}{(config.Sobel ? " + Sobel" : "")}, {config.Clustering} k = {config.NmbCluster}, lr {F(config.Lr, "G4")}, batch {config.Batch}");
        Row(h, "epochs", metrics.Count == 0 ? $"none finished of {config.Epochs}" : $"{metrics.Count} finished (last: epoch {metrics[^1].Epoch}) of {config.Epochs}");
        if (metrics.Count > 0)
        {
            var m = metrics[^1];
            Row(h, "last epoch", $"ConvNet loss {F(m.ConvnetLoss, "F4")}, clustering loss {F(m.ClusteringLoss, "G6")}, " +
                                 $"{m.NonEmptyClusters} non-empty clusters" +
                                 (m.NmiPrevious is { } p ? $", NMI vs previous {F(p, "F4")}" : "") +
                                 (m.NmiLabels is { } nl ? $", NMI vs labels {F(nl, "F4")}" : "") +
                                 $", {F(m.EpochSeconds, "F1")} s ({F(m.TrainImagesPerSecond, "F0")} training images/s)");
        }
        Row(h, "written", DateTime.UtcNow.ToString("yyyy-MM-dd HH:mm:ss 'UTC'", Inv));
        h.Append("</table>\n");
        foreach (var note in notes) h.Append("<p class=\"note\">").Append(E(note)).Append("</p>\n");

        if (plots.Count > 0)
        {
            h.Append("<h2>Training</h2>\n<div class=\"plots\">\n");
            foreach (var p in plots) h.Append("<figure>").Append(Img(p)).Append("</figure>\n");
            h.Append("</div>\n");
        }

        if (rows.Count > 0)
        {
            h.Append("<h2>Clusters of epoch ").Append(rows[0].Epoch).Append("</h2>\n");
            Section(h, "Largest clusters", rows.Where(r => r.Pick.Largest));
            Section(h, "Clusters drawn at random", rows.Where(r => !r.Pick.Largest));
        }
        h.Append("<script>\n").Append(Script).Append("</script>\n</body>\n</html>\n");
        return h.ToString();
    }

    static void Section(StringBuilder h, string title, IEnumerable<ClusterRow> rows)
    {
        var list = rows.ToList();
        if (list.Count == 0) return;
        h.Append("<h3>").Append(E(title)).Append("</h3>\n<table class=\"clusters\">\n");
        foreach (var r in list)
            h.Append("<tr><th>cluster ").Append(r.Pick.Cluster).Append("</th><td>")
             .Append(r.Pick.Size).Append(r.Pick.Size == 1 ? " image" : " images")
             .Append(r.Majority is { } m ? "<br>" + E(m) : "").Append("</td><td>").Append(Img(r.Strip)).Append("</td></tr>\n");
        h.Append("</table>\n");
    }

    static string Img(ReportFigure f) =>
        $"<img id=\"{E(f.Id)}\" alt=\"{E(f.Title)}\" title=\"{E(f.Title)}\" width=\"{f.Width}\" height=\"{f.Height}\" src=\"{f.DataUri}\">";

    static void Row(StringBuilder h, string key, string value) =>
        h.Append("<tr><th>").Append(E(key)).Append("</th><td>").Append(E(value)).Append("</td></tr>\n");

    static string F(double v, string format) => v.ToString(format, Inv);

    static string E(string s) => WebUtility.HtmlEncode(s);

    const string Style = """
        body { font-family: sans-serif; margin: 1.5em; color: #222; }
        table.summary th { text-align: left; padding-right: 1em; font-weight: normal; color: #666; }
        .plots { display: flex; flex-wrap: wrap; gap: 0.5em; }
        figure { margin: 0; }
        table.clusters th { text-align: left; padding-right: 1em; white-space: nowrap; }
        table.clusters td { padding-right: 1em; vertical-align: middle; }
        .note { color: #8a5a00; }
        img { image-rendering: pixelated; }

        """;

    const string Script = """
        (function () {
          window.addEventListener('error', function (e) {
            if (!document.body.hasAttribute('data-errors')) document.body.setAttribute('data-errors', String(e.message || e.type));
          }, true);
          window.addEventListener('load', function () {
            var images = document.images, broken = 0;
            for (var i = 0; i < images.length; i++) if (!(images[i].complete && images[i].naturalWidth > 0)) broken++;
            document.body.setAttribute('data-images', broken === 0 ? 'ok ' + images.length : 'broken ' + broken + ' of ' + images.length);
          });
        })();

        """;
}
