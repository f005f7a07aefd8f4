using System.CommandLine;

namespace DeepCluster.Cli.Commands;

/// <summary>
/// `deepcluster submit DIR [train flags]`: the flags, defaults and checks of `train`, sent to a host's control API,
/// which runs the experiment in a folder of its own; prints the experiment's id (only that, on stdout).
/// </summary>
public static class SubmitCommand
{
    /// <summary>Why each flag of `train` that names where a run lives is refused here.</summary>
    static readonly Dictionary<string, string> Refused = new()
    {
        ["--exp"] = "--exp: the host places each submitted experiment in its own folder (deepcluster.host.experiments/ID); use `train` to choose the folder.",
        ["--restart"] = "--restart: a submitted experiment is always new, in its own folder on the host; --restart is for `train`.",
        ["--journal"] = "--journal: the host journals its experiments as its configuration says (deepcluster.journal); --journal is for `train`.",
    };

    public static Command Create()
    {
        var o = new TrainOptions();
        var cmd = new Command("submit",
            "Submit an experiment to a host (`deepcluster host`): the flags of `train`, checked here; prints its id. " +
            "DIR must be the same path on the host (a shared filesystem).");
        o.AddTo(cmd);
        o.HideInProcessOnly();
        o.ConfigOption.Description = "the host's HOCON configuration, for its API URL and token file (default: config/deepcluster.conf next to the program)";
        var control = new ControlOptions(o.ConfigOption);
        control.AddTo(cmd);
        cmd.SetAction((pr, ct) =>
        {
            if (o.InProcessOnly(pr) is [var first, ..]) return Task.FromResult(Errors.Fail(Refused[first]));
            // Checked here as `train` checks it, before the host hears of it; paths are sent absolute.
            var read = o.Read(pr);
            var config = read with { Data = Path.GetFullPath(read.Data), Exp = "" };
            config.Validate();
            TrainCommand.CheckInputs(config, experimentFolder: false);
            return control.RunAsync(pr, ct, async client =>
            {
                Console.WriteLine(await client.SubmitAsync(config, ct));
                return 0;
            });
        });
        return cmd;
    }
}
