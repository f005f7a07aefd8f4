using System.CommandLine;
using System.CommandLine.Invocation;
using System.CommandLine.Parsing;
using DeepCluster.Actors.Hosting;
using DeepCluster.Cli.Commands;
using DeepCluster.Core.Native;

namespace DeepCluster.Cli;

/// <summary>The `deepcluster` command: one subcommand per job, each in Commands/.</summary>
public static class Cli
{
    /// <param name="pipeline">How `train` and `resume` make the pipeline actors; null: the real ones (tests substitute failing ones).</param>
    public static RootCommand Build(PipelineProps? pipeline = null)
    {
        var root = new RootCommand("DeepCluster: unsupervised training of convnets by clustering (Caron et al., ECCV 2018), in C#.");
        root.Subcommands.Add(InfoCommand.Create());
        root.Subcommands.Add(TrainCommand.Create(pipeline));
        root.Subcommands.Add(TrainCommand.CreateResume(pipeline));
        root.Subcommands.Add(ClusterCommand.Create());
        root.Subcommands.Add(PackCommand.Create());
        root.Subcommands.Add(HostCommand.Create(pipeline));
        // A host's control API (HttpClient only: no actor system, no TorchSharp).
        root.Subcommands.Add(SubmitCommand.Create());
        root.Subcommands.Add(ExperimentCommands.CreateList());
        root.Subcommands.Add(ExperimentCommands.CreateStatus());
        root.Subcommands.Add(ExperimentCommands.CreatePause());
        root.Subcommands.Add(ExperimentCommands.CreateStop());
        root.Subcommands.Add(LogsCommand.Create());
        root.Subcommands.Add(EvalLinearCommand.Create());
        root.Subcommands.Add(EvalVocCommand.Create());
        root.Subcommands.Add(EvalRetrievalCommand.Create());
        root.Subcommands.Add(ModelsCommand.Create());
        root.Subcommands.Add(FeaturesCommand.Create());
        root.Subcommands.Add(AssignmentsCommand.Create());
        root.Subcommands.Add(VisuCommand.Create());
        root.Subcommands.Add(ReportCommand.Create());
        // Further subcommands register here.
        return root;
    }

    public static async Task<int> RunAsync(string[] args, PipelineProps? pipeline = null)
    {
        try
        {
            var parsed = Build(pipeline).Parse(args);
            // A parse error (unknown flag, a value of the wrong type or not among the choices) is one line and exit 2,
            // like every other bad input; --help still shows the full usage.
            if (parsed.Action is ParseErrorAction) return Errors.Fail(ParseErrors.Describe(parsed));
            // Our own handler below: user errors become one line, never a stack trace.
            var invocation = new InvocationConfiguration { EnableDefaultExceptionHandler = false };
            return await parsed.InvokeAsync(invocation);
        }
        catch (TorchLoadException e) { Console.Error.WriteLine(Errors.Prefix + e.Message); return 3; }
        catch (Exception e) when (Errors.IsUserError(e)) { return Errors.Fail(e.Message); }
        catch (OperationCanceledException) { Console.Error.WriteLine(Errors.Prefix + "interrupted"); return Errors.Interrupted; }
    }
}
