using System.CommandLine;
using DeepCluster.Cli;

return await Cli.RunAsync(args);
