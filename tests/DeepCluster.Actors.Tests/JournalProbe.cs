using Akka;
using Akka.Actor;
using Akka.Hosting;
using Akka.Persistence;
using Akka.Persistence.Sql.Hosting;
using DeepCluster.Actors.Experiment;
using DeepCluster.Actors.Hosting;
using DeepCluster.Core.Experiment;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace DeepCluster.Actors.Tests;

/// <summary>
/// Reads and writes an experiment's journal in this process, under the experiment's persistence id, through the
/// journal set up as the host does it (<see cref="PipelineHosting.AddExperimentJournal"/>) or as it was before the
/// journal had its own serializer (<see cref="Legacy"/>: Akka's default JSON for events and snapshots).
/// </summary>
public static class JournalProbe
{
    /// <summary>
    /// <see cref="ExperimentActor.PersistenceId"/> of <paramref name="folder"/>: from its <c>experiment.id</c>, or the
    /// fixed id of the folders made before ids.
    /// </summary>
    public static string PersistenceIdOf(ExperimentFolder folder) =>
        folder.ReadId() is { } id ? JournalTarget.PersistenceIdOf(id) : JournalTarget.LegacyPersistenceId;
    static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    /// <summary>What a recovery delivered: the snapshot offered (if any) and the events replayed after it.</summary>
    public sealed record Recovered(ExperimentState? Snapshot, IReadOnlyList<IExperimentEvent> Events, long LastSequenceNr);

    /// <summary>The journal as the code before the explicit serializer wrote it (no binding: Akka's default JSON).</summary>
    public static void Legacy(AkkaConfigurationBuilder builder, ExperimentFolder folder) =>
        builder.WithSqlPersistence(connectionString: $"Data Source={folder.JournalPath}",
                                   providerName: LinqToDB.ProviderName.SQLiteMS, autoInitialize: true);

    /// <summary>The journal as the host sets it up now.</summary>
    public static void Current(AkkaConfigurationBuilder builder, ExperimentFolder folder) => builder.AddExperimentJournal(folder);

    /// <summary>
    /// Recovers the journal: from its latest snapshot on, or (<paramref name="useSnapshot"/> false) every event. A
    /// recovery that fails throws its cause.
    /// </summary>
    public static Recovered Read(ExperimentFolder folder, Action<AkkaConfigurationBuilder, ExperimentFolder> journal, bool useSnapshot = true) =>
        With(folder, journal, system =>
        {
            var recovered = new TaskCompletionSource<Recovered>(TaskCreationOptions.RunContinuationsAsynchronously);
            var id = PersistenceIdOf(folder);
            system.ActorOf(Props.Create(() => new ProbeActor(id, useSnapshot, recovered)));
            return recovered.Task.WaitAsync(Timeout);
        });

    /// <summary>Appends <paramref name="events"/>, then saves <paramref name="snapshot"/> (if any) at the last of them.</summary>
    public static void Write(ExperimentFolder folder, Action<AkkaConfigurationBuilder, ExperimentFolder> journal,
                             IReadOnlyList<IExperimentEvent> events, ExperimentState? snapshot = null) =>
        With(folder, journal, system =>
        {
            var id = PersistenceIdOf(folder);
            var probe = system.ActorOf(Props.Create(() => new ProbeActor(id, true, null)));
            return probe.Ask<Done>(new WriteJournal(events, snapshot), Timeout);
        });

    static T With<T>(ExperimentFolder folder, Action<AkkaConfigurationBuilder, ExperimentFolder> journal, Func<ActorSystem, Task<T>> work)
    {
        using var host = new HostBuilder()
            .ConfigureLogging(l => l.ClearProviders())
            .ConfigureServices(s => s.AddAkka("journal-probe", b => journal(b, folder)))
            .Build();
        host.Start();
        try { return work(host.Services.GetRequiredService<ActorSystem>()).GetAwaiter().GetResult(); }
        finally
        {
            host.StopAsync().GetAwaiter().GetResult();
            SqliteConnection.ClearAllPools();     // no pooled connection keeps the file (a test may replace it)
        }
    }

    /// <summary>The serializer id of every journal row, then of every snapshot row, in order.</summary>
    public static (long[] Events, long[] Snapshots) SerializerIds(ExperimentFolder folder)
    {
        using var db = new SqliteConnection($"Data Source={folder.JournalPath};Pooling=False");
        db.Open();
        return (Column(db, "SELECT identifier FROM journal ORDER BY ordering"),
                Column(db, "SELECT serializer_id FROM snapshot ORDER BY sequence_number"));
    }

    /// <summary>Runs <paramref name="sql"/> on the journal file (tests that damage a row).</summary>
    public static void Execute(ExperimentFolder folder, string sql)
    {
        using var db = new SqliteConnection($"Data Source={folder.JournalPath};Pooling=False");
        db.Open();
        using var cmd = db.CreateCommand();
        cmd.CommandText = sql;
        cmd.ExecuteNonQuery();
    }

    static long[] Column(SqliteConnection db, string sql)
    {
        using var cmd = db.CreateCommand();
        cmd.CommandText = sql;
        using var reader = cmd.ExecuteReader();
        var values = new List<long>();
        while (reader.Read()) values.Add(reader.GetInt64(0));
        return values.ToArray();
    }

    internal sealed record WriteJournal(IReadOnlyList<IExperimentEvent> Events, ExperimentState? Snapshot);

    internal sealed class ProbeActor : ReceivePersistentActor
    {
        readonly bool useSnapshot;
        ExperimentState? snapshot;
        readonly List<IExperimentEvent> events = [];
        readonly TaskCompletionSource<Recovered>? recovered;
        IActorRef? replyTo;

        public override string PersistenceId { get; }

        public ProbeActor(string persistenceId, bool useSnapshot, TaskCompletionSource<Recovered>? recovered)
        {
            PersistenceId = persistenceId;
            this.useSnapshot = useSnapshot;
            this.recovered = recovered;
            Recover<SnapshotOffer>(o => snapshot = (ExperimentState)o.Snapshot);
            Recover<IExperimentEvent>(events.Add);
            Recover<RecoveryCompleted>(_ => recovered?.TrySetResult(new Recovered(snapshot, events.ToList(), LastSequenceNr)));
            Command<WriteJournal>(w =>
            {
                replyTo = Sender;
                if (w.Events.Count == 0) { Saved(w.Snapshot); return; }
                var left = w.Events.Count;
                PersistAll(w.Events, _ => { if (--left == 0) Saved(w.Snapshot); });
            });
            Command<SaveSnapshotSuccess>(_ => replyTo!.Tell(Done.Instance));
            Command<SaveSnapshotFailure>(f => replyTo!.Tell(new Status.Failure(f.Cause)));
        }

        public override Recovery Recovery => useSnapshot ? base.Recovery : new Recovery(SnapshotSelectionCriteria.None);

        void Saved(ExperimentState? state)
        {
            if (state is null) replyTo!.Tell(Done.Instance);
            else SaveSnapshot(state);
        }

        protected override void OnRecoveryFailure(Exception reason, object? message = null)
        {
            recovered?.TrySetException(reason);
            base.OnRecoveryFailure(reason, message);
        }
    }
}
