using System.CommandLine;
using DeepCluster.Actors.Control;

namespace DeepCluster.Cli.Commands;

/// <summary>
/// `deepcluster logs ID [--follow]`: an experiment's log (its train.log) from a host; with --follow, the lines written
/// later too, until the experiment is finished, failed or stopped (or Ctrl+C).
/// </summary>
public static class LogsCommand
{
    /// <summary>How often --follow asks for new lines.</summary>
    internal static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(500);

    static readonly string[] Ended = [RunStates.Finished, RunStates.Failed, RunStates.Stopped];

    public static Command Create()
    {
        var id = new Argument<string>("ID") { Description = "experiment id" };
        var follow = new Option<bool>("--follow", "-f") { Description = "keep printing new lines until the experiment is finished, failed or stopped (or Ctrl+C)" };
        var control = new ControlOptions();
        var cmd = new Command("logs", "An experiment's log on its host.") { id, follow };
        control.AddTo(cmd);
        cmd.SetAction((pr, ct) => control.RunAsync(pr, ct, async client =>
        {
            var name = pr.GetValue(id)!;
            long offset = 0;
            var drained = false;
            try
            {
                while (true)
                {
                    var chunk = await client.LogsAsync(name, offset, ct);
                    foreach (var line in chunk.Lines) Console.WriteLine(line);
                    Console.Out.Flush();
                    offset = chunk.NextOffset;
                    if (!pr.GetValue(follow)) return 0;
                    // Once it has ended, read on until nothing more comes: the last lines may be written after the state.
                    if (Ended.Contains(chunk.State))
                    {
                        if (chunk.Lines.Count == 0 && drained) return 0;
                        drained = true;
                        continue;
                    }
                    drained = false;
                    await Task.Delay(PollInterval, ct);
                }
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested) { return Errors.Interrupted; }   // Ctrl+C: the usual end of --follow
        }));
        return cmd;
    }
}
