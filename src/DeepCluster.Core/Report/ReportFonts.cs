using ScottPlot;
using SkiaSharp;

namespace DeepCluster.Core.Report;

/// <summary>
/// Gives ScottPlot a font to write with. SkiaSharp's Linux build without dependencies (the one the project uses) has no
/// fontconfig and finds no system font at all: its default typeface is empty, and every title, label and tick would
/// be drawn as nothing. So a TrueType file is looked for (<c>$DEEPCLUSTER_REPORT_FONT</c>, else DejaVu Sans or
/// Liberation Sans, else any <c>.ttf</c>, in the font folders of the XDG data folders, <c>/usr/share/fonts</c> and
/// <c>/usr/local/share/fonts</c> by default, and of the user) and registered with ScottPlot as the default font,
/// regular and bold. Without any, the plots are drawn without text.
/// </summary>
static class ReportFonts
{
    /// <summary>The name the font is registered under.</summary>
    const string Name = "DeepCluster Report Sans";

    static readonly Lazy<string?> Registered = new(Register, LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>Registers the font once per process; the file used, or null when the system's font works or none was found.</summary>
    public static string? Ensure() => Registered.Value;

    static string? Register()
    {
        using (var system = SKTypeface.FromFamilyName(Fonts.Default))
            if (system is { GlyphCount: > 0 }) return null;   // a SkiaSharp that finds the system's fonts
        var regular = Find(["DejaVuSans.ttf", "LiberationSans-Regular.ttf"]);
        if (regular is null) return null;
        var bold = Find(["DejaVuSans-Bold.ttf", "LiberationSans-Bold.ttf"]) ?? regular;
        Fonts.AddFontFile(Name, regular, bold: false, italic: false);
        Fonts.AddFontFile(Name, bold, bold: true, italic: false);
        Fonts.Default = Fonts.Sans = Name;
        return regular;
    }

    /// <summary>The first of <paramref name="names"/> found in a font folder (the one of the variable first), else any .ttf when looking for a regular face.</summary>
    static string? Find(string[] names)
    {
        if (names[0] == "DejaVuSans.ttf" && Environment.GetEnvironmentVariable("DEEPCLUSTER_REPORT_FONT") is { Length: > 0 } chosen && File.Exists(chosen))
            return chosen;
        var files = Folders().SelectMany(d => SafeFiles(d)).ToList();
        foreach (var name in names)
            if (files.FirstOrDefault(f => Path.GetFileName(f).Equals(name, StringComparison.OrdinalIgnoreCase)) is { } found) return found;
        return names[0] == "DejaVuSans.ttf"
            ? files.Where(f => !Path.GetFileName(f).Contains("Bold", StringComparison.OrdinalIgnoreCase)).Order(StringComparer.Ordinal).FirstOrDefault()
            : null;
    }

    static IEnumerable<string> Folders()
    {
        var data = Environment.GetEnvironmentVariable("XDG_DATA_DIRS") is { Length: > 0 } dirs ? dirs.Split(':') : ["/usr/local/share", "/usr/share"];
        var home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
        return data.Select(d => Path.Combine(d, "fonts"))
                   .Append(Path.Combine(home, ".local", "share", "fonts")).Append(Path.Combine(home, ".fonts"))
                   .Where(Directory.Exists).Distinct();
    }

    static IEnumerable<string> SafeFiles(string folder)
    {
        try { return Directory.EnumerateFiles(folder, "*.ttf", SearchOption.AllDirectories).ToList(); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return []; }
    }
}
