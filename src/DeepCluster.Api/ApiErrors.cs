using System.Text.Json;
using DeepCluster.Actors.Control;
using Microsoft.AspNetCore.Http;

namespace DeepCluster.Api;

/// <summary>
/// What the control API answers when a request fails: a status code and <c>{"error": "one line"}</c>, never a stack
/// trace.
/// </summary>
public static class ApiErrors
{
    /// <summary>The body of every error answer.</summary>
    public sealed record Body(string Error);

    /// <summary>The status code and the line for an exception thrown while answering.</summary>
    /// <param name="timeout">How long the control was given (named in a 503).</param>
    public static (int Status, string Message) Map(Exception e, TimeSpan timeout) => e switch
    {
        UnknownExperimentException => (StatusCodes.Status404NotFound, e.Message),
        FileNotFoundException => (StatusCodes.Status404NotFound, e.Message),
        ArgumentException or InvalidDataException or FormatException => (StatusCodes.Status400BadRequest, e.Message),
        JsonException j => (StatusCodes.Status400BadRequest, "request body: " + ApiJson.Describe(j)),
        BadHttpRequestException b => (b.StatusCode, "bad request: " + b.Message),
        TimeoutException or OperationCanceledException or Akka.Actor.AskTimeoutException =>
            (StatusCodes.Status503ServiceUnavailable, $"the experiments did not answer within {timeout.TotalSeconds:0.#} s; try again"),
        // The first line only: a message that carries a trace of its own does not pass it on.
        _ => (StatusCodes.Status500InternalServerError, $"internal error ({e.GetType().Name}: {e.Message.Split('\n')[0].Trim()})"),
    };

    public static Task Write(HttpContext ctx, int status, string message)
    {
        ctx.Response.Clear();
        ctx.Response.StatusCode = status;
        if (status == StatusCodes.Status401Unauthorized) ctx.Response.Headers.WWWAuthenticate = "Bearer";
        return ctx.Response.WriteAsJsonAsync(new Body(ApiJson.OneLine(message)), ApiJson.Web, ctx.RequestAborted);
    }
}
