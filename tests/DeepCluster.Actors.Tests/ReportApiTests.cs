using System.Net;
using System.Text.Json;
using DeepCluster.Core.Experiment;
using DeepCluster.Core.Tests.Support;

namespace DeepCluster.Actors.Tests;

/// <summary>
/// <c>GET /api/experiments/{id}/report</c>: the experiment's report.html as HTML, rendered first when it is missing or
/// older than the metrics; the token, an unknown id and an experiment that has not started answer as the other endpoints.
/// </summary>
[Collection("reported experiment")]
public class ReportApiTests(ReportedExperiment run)
{
    [Fact]
    public async Task TheReportIsServedAsHtmlAndRenderedWhenStale()
    {
        using var dir = new TempDir();
        var copy = run.CopyTo(dir);
        var folder = new ExperimentFolder(copy);
        await using var host = await ControlApiHost.StartAsync();
        host.Control.Add("run1", folder: copy);
        using var http = host.Http();

        using (var response = await http.GetAsync("/api/experiments/run1/report"))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal("text/html", response.Content.Headers.ContentType?.MediaType);
            Assert.Equal("utf-8", response.Content.Headers.ContentType?.CharSet);
            Assert.Equal(File.ReadAllText(folder.ReportPath), await response.Content.ReadAsStringAsync());
        }

        // No page yet (a run from before reports, or its render failed): made on the request, and kept.
        File.Delete(folder.ReportPath);
        using (var response = await http.GetAsync("/api/experiments/run1/report"))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            var html = await response.Content.ReadAsStringAsync();
            Assert.Equal(4 + run.ClusterRows, ReportedExperiment.Images(html).Count);
            Assert.Equal(html, File.ReadAllText(folder.ReportPath));
        }
        // Older than the metrics (an epoch finished since): rendered again.
        File.SetLastWriteTimeUtc(folder.ReportPath, File.GetLastWriteTimeUtc(folder.MetricsPath).AddMinutes(-1));
        using (var response = await http.GetAsync("/api/experiments/run1/report"))
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.True(File.GetLastWriteTimeUtc(folder.ReportPath) >= File.GetLastWriteTimeUtc(folder.MetricsPath));

        using (var anonymous = host.Http(token: null))
            await ExpectError(anonymous, "/api/experiments/run1/report", HttpStatusCode.Unauthorized, "missing bearer token");
        await ExpectError(http, "/api/experiments/nope/report", HttpStatusCode.NotFound, "no experiment nope");
        var starting = dir.File("starting");
        Directory.CreateDirectory(starting);
        host.Control.Add("run2", folder: starting);
        await ExpectError(http, "/api/experiments/run2/report", HttpStatusCode.NotFound, "run2: no report yet: the experiment has not started");
    }

    static async Task ExpectError(HttpClient http, string path, HttpStatusCode status, string expected)
    {
        using var response = await http.GetAsync(path);
        Assert.Equal(status, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        var error = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("error").GetString()!;
        Assert.Contains(expected, error);
    }
}
