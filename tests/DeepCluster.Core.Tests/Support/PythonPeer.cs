using System.Diagnostics;

namespace DeepCluster.Core.Tests.Support;

/// <summary>
/// Runs a script under Debian's /usr/bin/python3, which has python3-torch, python3-faiss,
/// python3-sklearn and numpy (installed by .ci/run). The real peer for format and semantics tests.
/// </summary>
public static class PythonPeer
{
    public const string Python = "/usr/bin/python3";

    /// <summary>Runs <paramref name="script"/> with the given arguments; returns stdout, throws with stderr on failure.</summary>
    public static string Run(string script, params string[] args)
    {
        var dir = Directory.CreateTempSubdirectory("dc-py-");
        var path = Path.Combine(dir.FullName, "peer.py");
        File.WriteAllText(path, script);
        var psi = new ProcessStartInfo(Python) { RedirectStandardOutput = true, RedirectStandardError = true };
        psi.ArgumentList.Add(path);
        foreach (var a in args) psi.ArgumentList.Add(a);
        psi.Environment["OMP_NUM_THREADS"] = "2";
        using var p = Process.Start(psi) ?? throw new InvalidOperationException($"{Python} did not start");
        var stdoutTask = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEnd();
        var stdout = stdoutTask.Result;
        p.WaitForExit();
        try { dir.Delete(true); } catch { /* best effort */ }
        if (p.ExitCode != 0)
            throw new InvalidOperationException(
                $"{Python} failed ({p.ExitCode}). Are python3-torch, python3-faiss, python3-sklearn installed (.ci/run installs them)?\n{stderr}\n{stdout}");
        return stdout;
    }
}
