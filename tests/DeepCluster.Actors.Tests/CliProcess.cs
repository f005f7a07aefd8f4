using System.Diagnostics;
using System.Text;

namespace DeepCluster.Actors.Tests;

/// <summary>Runs the built `deepcluster` program as a child process, so a test can kill it with SIGKILL.</summary>
public sealed class CliProcess : IDisposable
{
    readonly Process process;
    readonly StringBuilder output = new();
    readonly List<string> lines = new();
    readonly object gate = new();

    public static string FashionMnist => "/usr/share/datasets/fashion-mnist";

    /// <summary>The checkout this test assembly was built in (the folder holding DeepCluster.Actors.sln).</summary>
    public static string RepositoryRoot
    {
        get
        {
            var root = new DirectoryInfo(AppContext.BaseDirectory);
            while (root is not null && !File.Exists(Path.Combine(root.FullName, "DeepCluster.Actors.sln"))) root = root.Parent;
            return root?.FullName ?? throw new InvalidOperationException("repository root not found above " + AppContext.BaseDirectory);
        }
    }

    /// <summary>The CLI's own build output, next to this test assembly's configuration (Debug/Release).</summary>
    public static string Executable
    {
        get
        {
            var dir = new DirectoryInfo(AppContext.BaseDirectory);
            var configuration = dir.Parent!.Name;   // bin/<Configuration>/<tfm>/
            var exe = Path.Combine(RepositoryRoot, "src", "DeepCluster.Cli", "bin", configuration, dir.Name, "deepcluster");
            if (!File.Exists(exe)) throw new FileNotFoundException("build the CLI first: " + exe);
            return exe;
        }
    }

    public CliProcess(params string[] args)
    {
        var psi = new ProcessStartInfo(Executable) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args) psi.ArgumentList.Add(a);
        psi.Environment["DOTNET_gcServer"] = "0";
        process = new Process { StartInfo = psi };
        process.OutputDataReceived += (_, e) => Add(e.Data);
        process.ErrorDataReceived += (_, e) => Add(e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    void Add(string? line)
    {
        if (line is null) return;
        lock (gate) { lines.Add(line); output.AppendLine(line); Monitor.PulseAll(gate); }
    }

    public string Output { get { lock (gate) return output.ToString(); } }
    public bool Exited => process.HasExited;
    public int Id => process.Id;

    /// <summary>
    /// Waits until a line contains one of <paramref name="texts"/>; returns the index of the text found (the first in
    /// the list when a line holds several), or -1 if the process ended first or time ran out.
    /// </summary>
    public int WaitForAnyLine(IReadOnlyList<string> texts, TimeSpan timeout)
    {
        var end = DateTime.UtcNow + timeout;
        lock (gate)
        {
            int seen = 0;
            while (DateTime.UtcNow < end)
            {
                for (; seen < lines.Count; seen++)
                    for (int i = 0; i < texts.Count; i++)
                        if (lines[seen].Contains(texts[i])) return i;
                if (process.HasExited) { Monitor.Wait(gate, 200); if (seen >= lines.Count) return -1; continue; }
                Monitor.Wait(gate, 200);
            }
        }
        return -1;
    }

    /// <summary>Waits until a line contains <paramref name="text"/>; false if the process ended first or time ran out.</summary>
    public bool WaitForLine(string text, TimeSpan timeout) => WaitForAnyLine([text], timeout) == 0;

    /// <summary>
    /// Waits until <paramref name="path"/> exists (checkpoints are renamed into place whole); false if the process
    /// ended first or time ran out.
    /// </summary>
    public bool WaitForFile(string path, TimeSpan timeout)
    {
        var end = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < end && !Exited)
        {
            if (File.Exists(path)) return true;
            Thread.Sleep(20);
        }
        return File.Exists(path);
    }

    /// <summary>SIGKILL, like `kill -9`: no shutdown code runs.</summary>
    public void KillHard()
    {
        if (!process.HasExited) process.Kill(entireProcessTree: true);
        process.WaitForExit(30_000);
    }

    /// <summary>Sends a signal by name (TERM, INT), as `kill -TERM` or Ctrl+C would.</summary>
    public void Signal(string name)
    {
        if (name is "INT" or "QUIT" && IgnoredHere(name == "INT" ? 2 : 3))
            throw new InvalidOperationException($"SIG{name} is ignored by this test process, so by the program it starts too " +
                "(a non-interactive shell ignores it for the jobs it puts in the background): run the tests in the foreground, " +
                "or from a shell with job control (set -m).");
        using var kill = Process.Start("kill", ["-" + name, process.Id.ToString()])!;
        kill.WaitForExit();
    }

    /// <summary>Whether signal <paramref name="number"/> is ignored by this process (the SigIgn mask of /proc/self/status),
    /// a disposition every child inherits.</summary>
    static bool IgnoredHere(int number)
    {
        var line = File.ReadLines("/proc/self/status").FirstOrDefault(l => l.StartsWith("SigIgn:", StringComparison.Ordinal));
        return line is not null && (Convert.ToUInt64(line["SigIgn:".Length..].Trim(), 16) & (1UL << (number - 1))) != 0;
    }

    public int WaitForExit(TimeSpan timeout)
    {
        if (!process.WaitForExit((int)timeout.TotalMilliseconds)) { KillHard(); throw new TimeoutException("deepcluster did not finish:\n" + Output); }
        process.WaitForExit();
        return process.ExitCode;
    }

    public void Dispose() { KillHard(); process.Dispose(); }
}
