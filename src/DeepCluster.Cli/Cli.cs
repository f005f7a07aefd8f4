using System.CommandLine;
using DeepCluster.Cli.Commands;
using DeepCluster.Core.Native;

namespace DeepCluster.Cli;

/// <summary>The `deepcluster` command: one subcommand per job, each in Commands/.</summary>
public static class Cli
{
    public static RootCommand Build()
    {
        var root = new RootCommand("DeepCluster: unsupervised training of convnets by clustering (Caron et al., ECCV 2018), in C#.");
        root.Subcommands.Add(InfoCommand.Create());
        root.Subcommands.Add(TrainCommand.Create());
        root.Subcommands.Add(TrainCommand.CreateResume());
        root.Subcommands.Add(ClusterCommand.Create());
        // Further subcommands register here.
        return root;
    }

    public static async Task<int> RunAsync(string[] args)
    {
        try
        {
            // Our own handler below: user errors become one line, never a stack trace.
            var invocation = new InvocationConfiguration { EnableDefaultExceptionHandler = false };
            return await Build().Parse(args).InvokeAsync(invocation);
        }
        catch (TorchLoadException e) { Console.Error.WriteLine(e.Message); return 3; }
        catch (Exception e) when (Errors.IsUserError(e)) { return Errors.Fail(e.Message); }
        catch (OperationCanceledException) { Console.Error.WriteLine("deepcluster: interrupted"); return 130; }
    }
}
