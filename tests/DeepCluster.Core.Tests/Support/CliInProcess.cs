namespace DeepCluster.Core.Tests.Support;

/// <summary>
/// Runs the <c>deepcluster</c> command in this process with the console captured. The console is global: test classes
/// that use this belong to the "Console" collection, so they never run at the same time.
/// </summary>
public static class CliInProcess
{
    public static (int Code, string Out, string Err) Run(params string[] args) => Run(() => DeepCluster.Cli.Cli.RunAsync(args));

    public static (int Code, string Out, string Err) Run(Func<Task<int>> command)
    {
        var (oldOut, oldErr) = (Console.Out, Console.Error);
        var (o, e) = (new StringWriter(), new StringWriter());
        Console.SetOut(o); Console.SetError(e);
        try { return (command().GetAwaiter().GetResult(), o.ToString(), e.ToString()); }
        finally { Console.SetOut(oldOut); Console.SetError(oldErr); }
    }
}
