using Akka.Actor;
using Akka.Event;

namespace DeepCluster.Actors.Progress;

/// <summary>An Akka log line (error or debug detail) for the experiment's log file only, not the console.</summary>
public sealed record AkkaLogLine(string Text);

/// <summary>
/// Akka's logger for the training host (<c>akka.loggers</c>): warnings become <see cref="ExperimentLog"/> lines (console
/// and train.log); errors and the rest go to train.log only, as <see cref="AkkaLogLine"/>. An error that ends the run
/// is already said once on stderr by the CLI; Akka's default logger would print it a second time on stdout, with a
/// stack trace when it has an exception.
/// </summary>
public sealed class AkkaLogRouter : ReceiveActor
{
    public AkkaLogRouter()
    {
        Receive<InitializeLogger>(_ => Sender.Tell(new LoggerInitialized()));
        Receive<Warning>(w => Context.System.EventStream.Publish(new ExperimentLog($"warning: {w.Message}")));
        Receive<LogEvent>(e => Context.System.EventStream.Publish(new AkkaLogLine(
            $"[{e.LogLevel().ToString().Replace("Level", "").ToUpperInvariant()}] {e.LogSource}: {e.Message}" +
            (e.Cause is { } c ? $"{Environment.NewLine}{c}" : ""))));
    }
}
