namespace DeepCluster.Core.Report;

/// <summary>
/// One picture of the report: a PNG (a plot, or a row of sample images) with the id its <c>&lt;img&gt;</c> gets in the
/// page, a title and its size in pixels.
/// </summary>
public sealed record ReportFigure(string Id, string Title, byte[] Png, int Width, int Height)
{
    /// <summary>The PNG as a <c>data:</c> URI, so the page needs no other file.</summary>
    public string DataUri => "data:image/png;base64," + Convert.ToBase64String(Png);
}
