using System.CommandLine;
using DeepCluster.Core.Native;
using TorchSharp;

namespace DeepCluster.Cli.Commands;

/// <summary>`deepcluster info`: checks that libtorch loads and says which devices there are.</summary>
public static class InfoCommand
{
    public static Command Create()
    {
        var cmd = new Command("info", "Check that libtorch loads; print versions, threads and devices.");
        cmd.SetAction(_ =>
        {
            TorchRuntime.EnsureLoaded();
            Console.WriteLine($"TorchSharp  {typeof(torch).Assembly.GetName().Version}");
            Console.WriteLine($"threads     {torch.get_num_threads()}");
            Console.WriteLine($"cuda        {(torch.cuda.is_available() ? $"yes ({torch.cuda.device_count()} device(s))" : "no")}");
            return 0;
        });
        return cmd;
    }
}
