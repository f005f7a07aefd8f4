using System.Globalization;
using DeepCluster.Actors.Control;
using DeepCluster.Core.Experiment;
using DeepCluster.Core.Report;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace DeepCluster.Api;

/// <summary>
/// The endpoints of the control API, each a thin call of <see cref="IExperimentControl"/> given at most
/// <see cref="ControlApiOptions.ControlTimeout"/> to answer.
/// </summary>
static class ControlApiRoutes
{
    public const string Health = "/api/health";

    public static void Map(IEndpointRouteBuilder app, IExperimentControl control, TimeSpan timeout)
    {
        // Runs the control call with the request's cancellation and the timeout; a slow control is a 503, not a hang.
        async Task<T> Ask<T>(HttpContext ctx, Func<HttpContext, CancellationToken, Task<T>> call)
        {
            using var cts = CancellationTokenSource.CreateLinkedTokenSource(ctx.RequestAborted);
            cts.CancelAfter(timeout);
            return await call(ctx, cts.Token).WaitAsync(timeout, ctx.RequestAborted);
        }

        static Task Json<T>(HttpContext ctx, T value, int status = StatusCodes.Status200OK)
        {
            ctx.Response.StatusCode = status;
            return ctx.Response.WriteAsJsonAsync(value, ApiJson.Web, ctx.RequestAborted);
        }

        // Routing decodes every escape of a path segment but %2F.
        static string Id(HttpContext ctx) => ((string)ctx.Request.RouteValues["id"]!).Replace("%2F", "/", StringComparison.OrdinalIgnoreCase);

        // A GET or POST that answers what the control says, as JSON.
        RequestDelegate Answer<T>(Func<HttpContext, CancellationToken, Task<T>> call) =>
            async ctx => await Json(ctx, await Ask(ctx, call));

        app.MapGet(Health, ctx => Json(ctx, new { status = "ok" }));

        // The configuration as config.json writes it; checked here too, so that a curl user gets the same 400 as the CLI.
        async Task Submit(HttpContext ctx)
        {
            string body;
            using (var reader = new StreamReader(ctx.Request.Body)) body = await reader.ReadToEndAsync(ctx.RequestAborted);
            var config = ApiJson.ReadConfig(body);
            config.Validate();
            var id = await Ask(ctx, (_, ct) => control.SubmitAsync(config, ct));
            ctx.Response.Headers.Location = $"/api/experiments/{Uri.EscapeDataString(id)}";
            await Json(ctx, new { id }, StatusCodes.Status201Created);
        }

        app.MapPost("/api/experiments", Submit);

        app.MapGet("/api/experiments", Answer((_, ct) => control.ListAsync(ct)));
        app.MapGet("/api/experiments/{id}", Answer((ctx, ct) => control.StatusAsync(Id(ctx), ct)));
        app.MapPost("/api/experiments/{id}/pause", Answer((ctx, ct) => control.PauseAsync(Id(ctx), ct)));
        app.MapPost("/api/experiments/{id}/resume", Answer((ctx, ct) => control.ResumeAsync(Id(ctx), ct)));
        app.MapPost("/api/experiments/{id}/stop", Answer((ctx, ct) => control.StopAsync(Id(ctx), ct)));
        app.MapGet("/api/experiments/{id}/logs", Answer((ctx, ct) => control.LogsAsync(Id(ctx), Offset(ctx), ct)));

        // The page itself (text/html), not JSON: rendered first when the folder has none or it is older than the metrics.
        async Task Report(HttpContext ctx)
        {
            var view = await Ask(ctx, (c, ct) => control.StatusAsync(Id(c), ct));
            var html = await Task.Run(() => ReportPage(view), ctx.RequestAborted);
            ctx.Response.ContentType = "text/html; charset=utf-8";
            ctx.Response.Headers.CacheControl = "no-store";
            ctx.Response.ContentLength = html.Length;
            await ctx.Response.Body.WriteAsync(html, ctx.RequestAborted);
        }

        app.MapGet("/api/experiments/{id}/report", Report);
    }

    /// <summary>
    /// The bytes of the experiment's <c>report.html</c> (<see cref="ExperimentReport.Current"/>); 404 while its folder holds
    /// no experiment yet (its first model is still being made).
    /// </summary>
    static byte[] ReportPage(ExperimentStatusView view)
    {
        var folder = new ExperimentFolder(view.Folder);
        if (!folder.HasConfig)
            throw new FileNotFoundException($"{view.Id}: no report yet: the experiment has not started ({folder.ConfigPath} not written yet)");
        return File.ReadAllBytes(ExperimentReport.Current(folder));
    }

    /// <summary>The <c>offset</c> query parameter of the logs endpoint (0 when absent).</summary>
    static long Offset(HttpContext ctx)
    {
        if (!ctx.Request.Query.TryGetValue("offset", out var raw)) return 0;
        return long.TryParse(raw.ToString(), NumberStyles.None, CultureInfo.InvariantCulture, out var offset)
            ? offset
            : throw new ArgumentException($"offset {raw}: expected a whole number of bytes, 0 or more.");
    }
}
