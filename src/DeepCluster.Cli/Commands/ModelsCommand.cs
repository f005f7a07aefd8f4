using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using DeepCluster.Core.Export;
using DeepCluster.Core.Models;
using Spectre.Console;

namespace DeepCluster.Cli.Commands;

/// <summary>
/// `deepcluster models list|download`: the released DeepCluster AlexNet and VGG16 (<see cref="ReleasedModels"/>), fetched
/// like the published <c>download_model.sh</c> into <c>$DEEPCLUSTER_MODELS</c> (default <c>~/deepcluster_models</c>) as
/// <c>ARCH/FILE</c>, each resumable, size- and checksum-checked and renamed into place only when whole
/// (<see cref="FileDownload"/>).
/// </summary>
public static class ModelsCommand
{
    /// <summary>Seconds between two progress lines when the output is not a terminal.</summary>
    const double PlainProgressSeconds = 10;

    public static Command Create()
    {
        var cmd = new Command("models", "The released DeepCluster models (AlexNet, VGG16; PyTorch and Caffe formats).");
        cmd.Subcommands.Add(CreateDownload());
        cmd.Subcommands.Add(CreateList());
        return cmd;
    }

    static Option<string?> ArchOption()
    {
        var arch = new Option<string?>("--arch", "-a") { Description = "only this architecture (default: both)" };
        arch.AcceptOnlyFromAmong(ReleasedModels.Architectures);
        return arch;
    }

    static Option<string?> FormatOption()
    {
        var format = new Option<string?>("--format") { Description = "only this format: pytorch (checkpoint.pth.tar) or caffe (model.prototxt + model.caffemodel) (default: both)" };
        format.AcceptOnlyFromAmong(ReleasedModels.Formats);
        return format;
    }

    static Option<string?> DirOption() => new("--dir")
        { Description = $"models folder (default: ${ReleasedModels.FolderVariable}, else ~/deepcluster_models)" };

    static Command CreateList()
    {
        var arch = ArchOption();
        var format = FormatOption();
        var dir = DirOption();
        var cmd = new Command("list", "List the released model files, their URLs and whether they are in the models folder.") { arch, format, dir };
        cmd.SetAction(pr =>
        {
            try
            {
                var root = ReleasedModels.Folder(pr.GetValue(dir));
                var baseUrl = ReleasedModels.BaseUrl();
                foreach (var f in ReleasedModels.Select(pr.GetValue(arch), pr.GetValue(format)))
                {
                    var local = f.PathUnder(root);
                    var state = File.Exists(local) ? $"present ({new FileInfo(local).Length} bytes)"
                        : File.Exists(FileDownload.PartPath(local)) ? $"partly downloaded ({new FileInfo(FileDownload.PartPath(local)).Length} bytes)" : "absent";
                    Console.WriteLine($"{f.Arch,-8} {f.Format,-8} {f.UrlUnder(baseUrl)}  {local}: {state}");
                }
                return 0;
            }
            catch (Exception e) when (Errors.IsUserError(e)) { return Errors.Fail(e.Message); }
        });
        return cmd;
    }

    static Command CreateDownload()
    {
        var arch = ArchOption();
        var format = FormatOption();
        var dir = DirOption();
        var baseUrl = new Option<string?>("--base-url")
            { Description = $"where the files are served (default: ${ReleasedModels.BaseUrlVariable}, else {ReleasedModels.DefaultBaseUrl})" };
        var checksums = new Option<string?>("--checksums")
            { Description = "a sha256sum list (HASH  alexnet/checkpoint.pth.tar) to verify the files against; the published project lists no checksums" };
        var force = new Option<bool>("--force") { Description = "download again the files already in the models folder" };
        var cmd = new Command("download", "Download the released models like download_model.sh: resumable, checked, renamed into place when whole.")
            { arch, format, dir, baseUrl, checksums, force };
        cmd.SetAction((pr, ct) => Download(pr.GetValue(arch), pr.GetValue(format), pr.GetValue(dir), pr.GetValue(baseUrl),
                                           pr.GetValue(checksums), pr.GetValue(force), ct));
        return cmd;
    }

    static async Task<int> Download(string? arch, string? format, string? dir, string? baseUrl, string? checksums, bool force, CancellationToken ct)
    {
        IReadOnlyList<ReleasedFile> files;
        string root, url;
        IReadOnlyDictionary<string, string> trusted;
        try
        {
            files = ReleasedModels.Select(arch, format);
            root = ReleasedModels.Folder(dir);
            url = ReleasedModels.BaseUrl(baseUrl);
            trusted = checksums is null ? new Dictionary<string, string>() : ChecksumList.Read(checksums);
        }
        catch (Exception e) when (Errors.IsUserError(e)) { return Errors.Fail(e.Message); }

        using var http = new HttpClient();
        http.DefaultRequestHeaders.UserAgent.ParseAdd("deepcluster-actors");
        var download = new FileDownload(http);
        int failed = 0;
        using var console = DownloadConsole.Create();
        foreach (var f in files)
        {
            var sha = trusted.TryGetValue(f.RelativePath, out var h) ? h : f.Sha256;
            try
            {
                var r = await download.RunAsync(f.UrlUnder(url), f.PathUnder(root), sha, f.Size, p => console.OnProgress(f.RelativePath, p), force, ct);
                console.OnLog(Describe(f, r));
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                console.Dispose();
                Console.Error.WriteLine(Errors.Prefix + "interrupted; the bytes received are kept: run the command again to resume.");
                return Errors.Interrupted;
            }
            catch (Exception e) when (Errors.IsUserError(e) || e is HttpRequestException or OperationCanceledException)
            {
                console.Dispose();
                failed++;
                Console.Error.WriteLine(Errors.Prefix + e switch
                {
                    OperationCanceledException => $"{f.UrlUnder(url)}: no answer from the server in {http.Timeout.TotalSeconds:F0} s.",
                    HttpRequestException { StatusCode: null } => $"{f.UrlUnder(url)}: {e.Message}",
                    _ => e.Message,
                });
            }
        }
        return failed == 0 ? 0 : Errors.UserError;
    }

    static string Describe(ReleasedFile f, DownloadResult r)
    {
        var what = r.AlreadyThere ? "already there"
            : r.ResumedFrom > 0 ? string.Create(CultureInfo.InvariantCulture, $"downloaded {r.Bytes} bytes (resumed at byte {r.ResumedFrom})")
            : string.Create(CultureInfo.InvariantCulture, $"downloaded {r.Bytes} bytes");
        var check = r.ChecksumVerified ? "SHA-256 verified" : "size checked; no known SHA-256 to verify against";
        return $"{f.RelativePath}: {what}: {r.Path} (SHA-256 {r.Sha256}; {check})";
    }

    /// <summary>A Spectre bar per file on a terminal; a plain line every few seconds otherwise.</summary>
    abstract class DownloadConsole : IDisposable
    {
        public static DownloadConsole Create() =>
            !Console.IsOutputRedirected && AnsiConsole.Profile.Capabilities.Interactive ? new Live() : new Plain();

        public abstract void OnProgress(string key, DownloadProgress p);
        public abstract void OnLog(string line);
        public virtual void Dispose() { }

        protected static string Line(DownloadProgress p) => string.Create(CultureInfo.InvariantCulture,
            $"{p.Name}: {p.Done / 1048576.0:F1}{(p.Total is long t ? $" of {t / 1048576.0:F1}" : "")} MiB");

        sealed class Plain : DownloadConsole
        {
            readonly Stopwatch last = Stopwatch.StartNew();

            public override void OnProgress(string key, DownloadProgress p)
            {
                if (last.Elapsed.TotalSeconds < PlainProgressSeconds) return;
                Console.WriteLine(Line(p));
                last.Restart();
            }

            public override void OnLog(string line) => Console.WriteLine(line);
        }

        sealed class Live : DownloadConsole
        {
            readonly LiveBars<string> bars = new();

            public override void OnProgress(string key, DownloadProgress p) => bars.Update(key, Line(p), p.Done, p.Total ?? Math.Max(p.Done + 1, 1));
            public override void OnLog(string line) => bars.Log(line);
            public override void Dispose() => bars.Dispose();
        }
    }
}
