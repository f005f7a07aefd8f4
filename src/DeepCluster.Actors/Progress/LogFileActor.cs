using Akka.Actor;

namespace DeepCluster.Actors.Progress;

/// <summary>Appends the experiment's log lines, time-stamped, to the log file of the experiment folder.</summary>
public sealed class LogFileActor : ReceiveActor
{
    public LogFileActor(string path)
    {
        Receive<ExperimentLog>(l =>
            File.AppendAllText(path, $"{DateTime.UtcNow:yyyy-MM-dd HH:mm:ss}Z {l.Text}{Environment.NewLine}"));
    }

    protected override void PreStart() => Context.System.EventStream.Subscribe(Self, typeof(ExperimentLog));

    public static Props Props(string path) => Akka.Actor.Props.Create(() => new LogFileActor(path));
}
