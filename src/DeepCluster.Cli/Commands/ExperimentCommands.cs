using System.CommandLine;
using System.Globalization;
using DeepCluster.Actors.Control;
using DeepCluster.Api;

namespace DeepCluster.Cli.Commands;

/// <summary>`deepcluster list`, `status ID`, `pause ID`, `stop ID` and the host side of `resume ID`: one request each.</summary>
public static class ExperimentCommands
{
    public static Command CreateList()
    {
        var control = new ControlOptions();
        var cmd = new Command("list", "The experiments of a host, newest first: id, state, epoch, phase and its progress.");
        control.AddTo(cmd);
        cmd.SetAction((pr, ct) => control.RunAsync(pr, ct, async client =>
        {
            var all = await client.ListAsync(ct);
            if (all.Count == 0) { Console.Error.WriteLine($"{Errors.Prefix}no experiments on {client.Url}"); return 0; }
            string[][] rows =
            [
                ["ID", "STATE", "EPOCH", "PHASE", "PROGRESS", "SUBMITTED"],
                .. all.Select(e => new[] { e.Id, e.State, $"{e.Epoch}/{e.Epochs}", e.Phase, Progress(e), Time(e.Submitted) }),
            ];
            var widths = Enumerable.Range(0, rows[0].Length).Select(c => rows.Max(r => r[c].Length)).ToArray();
            foreach (var r in rows) Console.WriteLine(string.Join("  ", r.Select((cell, c) => cell.PadRight(widths[c]))).TrimEnd());
            return 0;
        }));
        return cmd;
    }

    public static Command CreateStatus()
    {
        var id = new Argument<string>("ID") { Description = "experiment id (as `submit` printed it, or from `list`)" };
        var control = new ControlOptions();
        var cmd = new Command("status", "Where an experiment stands: state, epoch, phase and its progress, last metrics, the node running each phase, error.") { id };
        control.AddTo(cmd);
        cmd.SetAction((pr, ct) => control.RunAsync(pr, ct, async client =>
        {
            Console.Write(Describe(await client.StatusAsync(pr.GetValue(id)!, ct)));
            return 0;
        }));
        return cmd;
    }

    public static Command CreatePause() => Control("pause", "Pause an experiment at its next safe point (persisted: a restarted host keeps it paused).",
                                                   (c, id, ct) => c.PauseAsync(id, ct));

    public static Command CreateStop() => Control("stop", "Stop an experiment for good (its folder stays).", (c, id, ct) => c.StopAsync(id, ct));

    static Command Control(string name, string help, Func<ControlApiClient, string, CancellationToken, Task<ControlReply>> call)
    {
        var id = new Argument<string>("ID") { Description = "experiment id" };
        var control = new ControlOptions();
        var cmd = new Command(name, help) { id };
        control.AddTo(cmd);
        cmd.SetAction((pr, ct) => control.RunAsync(pr, ct, async client => Print(await call(client, pr.GetValue(id)!, ct))));
        return cmd;
    }

    /// <summary>`resume ID` on a host (see <see cref="TrainCommand.CreateResume"/>).</summary>
    internal static Task<int> ResumeAsync(ControlOptions control, ParseResult pr, string id, CancellationToken ct) =>
        control.RunAsync(pr, ct, async client => Print(await client.ResumeAsync(id, ct)));

    static int Print(ControlReply reply)
    {
        Console.WriteLine(reply.Message);
        return 0;
    }

    /// <summary>What `status` prints: one "name  value" line each.</summary>
    internal static string Describe(ExperimentStatusView s)
    {
        var lines = new List<(string, string?)>
        {
            ("id", s.Id),
            ("state", s.State),
            ("epoch", $"{s.Epoch} (last: {s.Epochs - 1})"),
            ("phase", s.Total > 0 ? $"{s.Phase}, {Progress(s)}" : s.Phase),
            ("metrics", s.LastMetrics),
            ("nodes", s.Nodes.Count == 0 ? null : string.Join(", ", s.Nodes.Select(n => $"{n.Key} on {n.Value}"))),
            ("folder", s.Folder),
            ("submitted", Time(s.Submitted)),
            ("error", s.Error),
        };
        return string.Concat(lines.Where(l => !string.IsNullOrEmpty(l.Item2)).Select(l => $"{l.Item1,-10} {l.Item2}\n"));
    }

    static string Progress(ExperimentStatusView s)
    {
        if (s.Total <= 0) return "-";
        var text = string.Create(CultureInfo.InvariantCulture, $"{s.Done}/{s.Total}{(s.Unit is null ? "" : " " + s.Unit)}");
        return s.Rate > 0 ? text + string.Create(CultureInfo.InvariantCulture, $" ({s.Rate:0.#}/s)") : text;
    }

    static string Time(DateTimeOffset t) => t.ToLocalTime().ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture);
}
