using System.CommandLine;
using DeepCluster.Core.Export;

namespace DeepCluster.Cli.Commands;

/// <summary>
/// `deepcluster assignments EXP [--epoch N] --out file.pickle`: an experiment's clustering of one epoch (default: the
/// last) as the released <c>*_cluster_assignment.pickle</c>: a pickled list of (image path, cluster index) tuples
/// (<see cref="ClusterAssignmentExport"/>).
/// </summary>
public static class AssignmentsCommand
{
    public static Command Create()
    {
        var exp = new Argument<string>("EXP") { Description = "the experiment folder (--exp of `deepcluster train`)" };
        var epoch = new Option<int?>("--epoch") { Description = "the epoch whose clustering to export (default: the last finished)" };
        var output = new Option<string>("--out") { Description = "the pickle to write: a list of (image path, cluster index) tuples, in dataset order", Required = true };
        var data = new Option<string?>("--data") { Description = "the dataset, when it has moved since training (default: the one in EXP/config.json)" };
        var cmd = new Command("assignments", "Export an epoch's cluster assignments as a pickled list of (image path, cluster index) tuples, like the released *_cluster_assignment.pickle.")
            { exp, epoch, output, data };
        cmd.SetAction(pr => Run(pr.GetValue(exp)!, pr.GetValue(epoch), pr.GetValue(output)!, pr.GetValue(data)));
        return cmd;
    }

    static int Run(string exp, int? epoch, string output, string? data)
    {
        try
        {
            if (Directory.Exists(output)) throw new ArgumentException($"--out {output}: is a folder; give the .pickle file to write.");
            var a = ClusterAssignmentExport.Read(exp, epoch, data);
            ClusterAssignmentExport.WritePickle(output, a.Pairs);
            Console.WriteLine($"wrote {Path.GetFullPath(output)}: epoch {a.Epoch}, {a.Pairs.Count} (image path, cluster) tuples in {a.Clusters} clusters, images of {a.Dataset}");
            return 0;
        }
        catch (Exception e) when (Errors.IsUserError(e)) { return Errors.Fail(e.Message); }
    }
}
