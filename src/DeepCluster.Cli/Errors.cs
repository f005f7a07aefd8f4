using DeepCluster.Actors.Hosting;
using DeepCluster.Core.Data;
using DeepCluster.Core.Experiment;
using DeepCluster.Core.Native;

namespace DeepCluster.Cli;

/// <summary>Bad input becomes one clear line on stderr and a non-zero exit code, never a stack trace.</summary>
public static class Errors
{
    public const int UserError = 2;
    /// <summary>Stopped by Ctrl+C or SIGTERM; the experiment resumes with the same command (128 + SIGINT, as shells report).</summary>
    public const int Interrupted = 130;
    /// <summary>What every error and warning line starts with.</summary>
    public const string Prefix = "deepcluster: ";

    public static int Fail(string message)
    {
        Console.Error.WriteLine(Prefix + message);
        return UserError;
    }

    public static void Warn(string message) => Console.Error.WriteLine($"{Prefix}warning: {message}");

    public static bool IsUserError(Exception e) => e is ArgumentException or FileNotFoundException or DirectoryNotFoundException
        or InvalidDataException or ExperimentMismatchException or ExperimentLockedException or TorchLoadException
        or UnauthorizedAccessException or ImageDecodeException or IOException;
}
