using System.Diagnostics;
using System.Text;
using DeepCluster.Core.Tests.Support;

namespace DeepCluster.Actors.Tests;

/// <summary>
/// Debian's <c>chromium</c> run headless on one page, time-limited (the whole process tree is killed past its limit), in
/// a throwaway profile. Missing, it fails the test with a line saying how to install it (CI installs it through
/// <c>deploy/deps.sh test</c>): nothing is skipped silently.
/// </summary>
public static class HeadlessChromium
{
    /// <summary>How long one run may take; a headless load of a local page takes a few seconds.</summary>
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(90);

    /// <summary>The browser on PATH (<c>chromium</c>, else <c>chromium-browser</c>).</summary>
    public static string Executable =>
        new[] { "chromium", "chromium-browser" }
            .SelectMany(name => (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries)
                                                                            .Select(dir => Path.Combine(dir, name)))
            .FirstOrDefault(File.Exists)
        ?? throw new Xunit.Sdk.XunitException("chromium not found on PATH: install Debian's chromium (apt-get install chromium; " +
                                              "deploy/deps.sh test does) to run the report's browser test");

    /// <summary>
    /// Opens <paramref name="page"/> (a file) headless with <paramref name="flags"/>; its exit code, stdout and stderr
    /// (Chromium's log, with the page's console messages, when <c>--enable-logging=stderr</c>).
    /// </summary>
    public static (int Code, string Out, string Err) Run(string page, params string[] flags)
    {
        using var profile = new TempDir();
        var psi = new ProcessStartInfo(Executable)
        {
            RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
        };
        // --no-sandbox: tests and CI run as root, where Chromium's sandbox refuses to start.
        foreach (var a in new[] { "--headless", "--disable-gpu", "--no-sandbox", "--no-first-run", "--disable-dev-shm-usage",
                                  "--disable-extensions", "--mute-audio", $"--user-data-dir={profile.Path}" })
            psi.ArgumentList.Add(a);
        foreach (var f in flags) psi.ArgumentList.Add(f);
        psi.ArgumentList.Add(new Uri(Path.GetFullPath(page)).AbsoluteUri);
        psi.Environment["HOME"] = profile.Path;
        using var process = Process.Start(psi)!;
        var stdout = new StringBuilder();
        var stderr = new StringBuilder();
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (stdout) stdout.AppendLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (stderr) stderr.AppendLine(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        if (!process.WaitForExit(Timeout))
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit();
            throw new Xunit.Sdk.XunitException($"chromium did not finish within {Timeout.TotalSeconds:0} s on {page}:\n{stderr}");
        }
        process.WaitForExit();   // the output's end
        lock (stdout) lock (stderr) return (process.ExitCode, stdout.ToString(), stderr.ToString());
    }
}
