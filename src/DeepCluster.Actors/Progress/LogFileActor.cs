using Akka.Actor;

namespace DeepCluster.Actors.Progress;

/// <summary>Appends the experiment's log lines and Akka's own (<see cref="AkkaLogLine"/>), time-stamped, to the log file of the experiment folder.</summary>
public sealed class LogFileActor : ReceiveActor
{
    public LogFileActor(string path)
    {
        Receive<ExperimentLog>(l => Append(l.Text));
        Receive<AkkaLogLine>(l => Append(l.Text));

        void Append(string text) => File.AppendAllText(path, $"{DateTime.UtcNow:yyyy-MM-dd HH:mm:ss}Z {text}{Environment.NewLine}");
    }

    protected override void PreStart()
    {
        Context.System.EventStream.Subscribe(Self, typeof(ExperimentLog));
        Context.System.EventStream.Subscribe(Self, typeof(AkkaLogLine));
    }

    public static Props Props(string path) => Akka.Actor.Props.Create(() => new LogFileActor(path));
}
