using Akka.Actor;

namespace DeepCluster.Actors.Progress;

/// <summary>Appends the experiment's log lines and Akka's own (<see cref="AkkaLogLine"/>), time-stamped, to the log file of the experiment folder.</summary>
/// <remarks>
/// <c>train</c> has one experiment per process: its log file listens to the event stream. The host has many: each
/// experiment entity owns a log file actor and sends it the lines itself (<c>subscribe</c> off).
/// </remarks>
public sealed class LogFileActor : ReceiveActor
{
    readonly bool subscribe;

    public LogFileActor(string path, bool subscribe = true)
    {
        this.subscribe = subscribe;
        Receive<ExperimentLog>(l => Append(l.Text));
        Receive<AkkaLogLine>(l => Append(l.Text));

        void Append(string text) => File.AppendAllText(path, $"{DateTime.UtcNow:yyyy-MM-dd HH:mm:ss}Z {text}{Environment.NewLine}");
    }

    protected override void PreStart()
    {
        if (!subscribe) return;
        Context.System.EventStream.Subscribe(Self, typeof(ExperimentLog));
        Context.System.EventStream.Subscribe(Self, typeof(AkkaLogLine));
    }

    public static Props Props(string path, bool subscribe = true) => Akka.Actor.Props.Create(() => new LogFileActor(path, subscribe));
}
