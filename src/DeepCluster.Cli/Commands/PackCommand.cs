using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using DeepCluster.Core.Data;
using Spectre.Console;

namespace DeepCluster.Cli.Commands;

/// <summary>
/// `deepcluster pack DIR OUT`: an ImageFolder resized once (shorter side at most --max-side, never upscaled) into one
/// memory-mappable file with labels and original paths (<see cref="DatasetPacker"/>, layout in <see cref="PackFormat"/>),
/// which `train` reads in place of DIR.
/// </summary>
public static class PackCommand
{
    /// <summary>Seconds between two progress lines when the output is not a terminal.</summary>
    const double PlainProgressSeconds = 5;

    public static Command Create()
    {
        var dir = new Argument<string>("DIR") { Description = "ImageFolder to pack (one sub-folder per class)" };
        var output = new Argument<string>("OUT") { Description = "pack file to write (e.g. train.dcpack)" };
        var maxSide = new Flag<int>("--max-side", "resize images whose shorter side is longer to this shorter side (Resize(N), Pillow's bilinear); smaller ones are kept as they are",
                                    PackFormat.DefaultMaxSide);
        var encoding = new Flag<string>("--encoding", "how images are stored: rgb (raw pixel rows: no decoding when loaded, ~3 bytes a pixel) or jpeg (re-encoded, ~10x smaller, lossy)", "rgb");
        encoding.Option.AcceptOnlyFromAmong("rgb", "jpeg");
        var quality = new Flag<int>("--quality", "JPEG quality 1-100, with --encoding jpeg", PackFormat.DefaultQuality);
        var workers = new Flag<int>("--workers", "decoding threads (0: one per core)", 0);
        var skipBad = new Option<bool>("--skip-bad-files") { Description = "leave out unreadable images (listed in the pack and reported) instead of stopping" };
        var force = new Option<bool>("--force") { Description = "replace OUT if it exists" };
        var cmd = new Command("pack", "Pack an ImageFolder into one memory-mapped file of resized images for faster loading (train reads it in place of DIR).")
            { dir, output, maxSide.Option, encoding.Option, quality.Option, workers.Option, skipBad, force };
        cmd.SetAction((pr, ct) =>
        {
            var jpeg = encoding.Get(pr) == "jpeg";
            if (!jpeg && pr.GetResult(quality.Option) is { Implicit: false })
                return Task.FromResult(Errors.Fail($"--quality {quality.Get(pr)}: only with --encoding jpeg (rgb stores the pixels as they are)."));
            var options = new PackOptions
            {
                MaxSide = maxSide.Get(pr), Encoding = jpeg ? PackEncoding.Jpeg : PackEncoding.Rgb, Quality = quality.Get(pr),
                Workers = workers.Get(pr), SkipBadFiles = pr.GetValue(skipBad), Force = pr.GetValue(force),
            };
            return Task.FromResult(Run(pr.GetValue(dir)!, pr.GetValue(output)!, options, ct));
        });
        return cmd;
    }

    static int Run(string dir, string output, PackOptions options, CancellationToken ct)
    {
        try
        {
            options.Validate();
            var result = WithProgress(progress => DatasetPacker.Pack(dir, output, options, progress, ct));
            var skipped = result.Skipped;
            if (skipped.Count > 0)
                Errors.Warn($"skipped {skipped.Count} unreadable image file{(skipped.Count == 1 ? "" : "s")} (--skip-bad-files): " +
                            string.Join("; ", skipped.Take(3).Select(s => $"{s.Path} ({s.Reason})")) +
                            (skipped.Count > 3 ? $"; and {skipped.Count - 3} more" : ""));
            var seconds = result.Elapsed.TotalSeconds;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"packed {result.Images} images of {result.Classes} classes from {dir} into {result.Path}: {Size(result.Bytes)}, " +
                $"{(options.Encoding == PackEncoding.Rgb ? "raw RGB" : $"JPEG quality {options.Quality}")}, shorter side <= {options.MaxSide}, " +
                $"in {seconds:F1} s ({result.Images / Math.Max(seconds, 1e-3):F0} images/s)"));
            return 0;
        }
        catch (Exception e) when (Errors.IsUserError(e)) { return Errors.Fail(e.Message); }
    }

    static string Size(long bytes) => bytes switch
    {
        >= 1L << 30 => string.Create(CultureInfo.InvariantCulture, $"{bytes / (double)(1L << 30):F2} GiB"),
        >= 1L << 20 => string.Create(CultureInfo.InvariantCulture, $"{bytes / (double)(1L << 20):F1} MiB"),
        _ => string.Create(CultureInfo.InvariantCulture, $"{bytes / 1024.0:F1} KiB"),
    };

    /// <summary>A Spectre progress bar on a terminal; otherwise a plain line every few seconds.</summary>
    static T WithProgress<T>(Func<Action<PackProgress>, T> run)
    {
        static string Line(PackProgress p) => $"packed {p.Done}/{p.Total} images, {Size(p.Bytes)}{(p.Skipped > 0 ? $", {p.Skipped} skipped" : "")}";
        if (Console.IsOutputRedirected || !AnsiConsole.Profile.Capabilities.Interactive)
        {
            var last = Stopwatch.StartNew();
            return run(p =>
            {
                if (last.Elapsed.TotalSeconds < PlainProgressSeconds || p.Done == p.Total) return;
                Console.WriteLine(Line(p));
                last.Restart();
            });
        }
        T result = default!;
        AnsiConsole.Progress().Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(),
                                       new RemainingTimeColumn(), new ElapsedTimeColumn())
            .Start(ctx =>
            {
                var task = ctx.AddTask("packing", maxValue: 1);
                result = run(p =>
                {
                    task.MaxValue = p.Total;
                    task.Value = p.Done;
                    task.Description = Markup.Escape(Line(p));
                });
            });
        return result;
    }
}
