using System.Text.RegularExpressions;
using DeepCluster.Core.Report;
using SkiaSharp;

namespace DeepCluster.Actors.Tests;

/// <summary>
/// The report in a real browser (headless Chromium): the page loads without a script error or console message, every
/// image decodes, and a screenshot shows them. The page and the screenshot are kept in
/// <c>tests/TestResults/report/</c> (report.html, report-screenshot.png).
/// </summary>
[Collection("reported experiment")]
public class ReportBrowserTests(ReportedExperiment run)
{
    [Fact]
    public void ChromiumLoadsThePageWithoutErrorsAndShowsItsImages()
    {
        var artefacts = Path.Combine(CliProcess.RepositoryRoot, "tests", "TestResults", "report");
        Directory.CreateDirectory(artefacts);
        var page = Path.Combine(artefacts, ExperimentReport.FileName);
        File.Copy(Path.Combine(run.Folder, ExperimentReport.FileName), page, overwrite: true);
        var images = ReportedExperiment.Images(File.ReadAllText(page)).Count;
        Assert.Equal(4 + run.ClusterRows, images);   // the plots, the clusters

        // The DOM once loaded: the page's own check found every image decoded, and no script error.
        var (code, dom, log) = HeadlessChromium.Run(page, "--enable-logging=stderr", "--v=0", "--virtual-time-budget=10000", "--dump-dom");
        Assert.True(code == 0, log);
        var body = Regex.Match(dom, "<body[^>]*>");
        Assert.True(body.Success, dom[..Math.Min(dom.Length, 2000)] + log);
        Assert.Contains($"data-images=\"ok {images}\"", body.Value);
        Assert.DoesNotContain("data-errors", body.Value);
        var console = log.Split('\n').Where(l => l.Contains("CONSOLE", StringComparison.Ordinal)).ToList();
        Assert.True(console.Count == 0, "console messages:\n" + string.Join('\n', console));

        // What it shows: a screenshot of the page, far from blank (the plots' colours and the thumbnails).
        var screenshot = Path.Combine(artefacts, "report-screenshot.png");
        File.Delete(screenshot);
        (code, _, log) = HeadlessChromium.Run(page, "--hide-scrollbars", "--window-size=1280,2000", "--virtual-time-budget=10000",
                                              $"--screenshot={screenshot}");
        Assert.True(code == 0 && File.Exists(screenshot), log);
        using var shot = SKBitmap.Decode(screenshot);
        Assert.NotNull(shot);
        Assert.Equal((1280, 2000), (shot.Width, shot.Height));
        Assert.True(ReportedExperiment.Colours(shot) > 200, "the screenshot is nearly blank: " + screenshot);
        var white = 0;
        for (var y = 0; y < shot.Height; y += 4)
            for (var x = 0; x < shot.Width; x += 4)
                if (shot.GetPixel(x, y) == SKColors.White) white++;
        Assert.True(white < 0.95 * (shot.Width / 4) * (shot.Height / 4), "the screenshot is nearly all white: " + screenshot);
    }
}
