using Akka.Actor;
using Akka.Hosting;
using DeepCluster.Actors.Experiment;
using DeepCluster.Actors.Progress;
using DeepCluster.Core.Experiment;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace DeepCluster.Actors.Hosting;

/// <summary>Receives what the pipeline reports: progress, log lines, the end.</summary>
public interface IExperimentObserver
{
    void OnProgress(PhaseProgress progress);
    void OnLog(string line);
}

/// <summary>
/// Runs one experiment in this process: checks the folder (journal readable, results not orphaned, same configuration:
/// <see cref="ExperimentPreflight"/>), locks it, gives a new experiment its id (<see cref="ExperimentIdentity"/>),
/// starts the actor system (Akka.Hosting, HOCON, SQLite or PostgreSQL journal) and waits until the experiment completes
/// or fails.
/// </summary>
public static class ExperimentHost
{
    /// <param name="pipeline">How the pipeline actors are made (tests substitute failing ones); null: the real actors.</param>
    /// <param name="restart">Start over: what the folder holds is moved aside first (<c>--restart</c>).</param>
    /// <param name="journal">The <c>--journal</c> flag, overriding <c>deepcluster.journal</c>; null: the configuration's.</param>
    public static async Task<ExperimentOutcome> RunAsync(TrainConfig config, string? hoconPath, IExperimentObserver observer,
                                                         CancellationToken cancel = default, PipelineProps? pipeline = null,
                                                         bool restart = false, string? journal = null)
    {
        var folder = new ExperimentFolder(config.Exp);
        var (hocon, settings) = HostConfig.Load(hoconPath, journal);
        settings.ApplyToDecoding();
        var journalSettings = JournalSettings.From(hocon);
        if (restart) ExperimentPreflight.CheckServer(journalSettings);
        else ExperimentPreflight.Check(folder, config, journalSettings);
        // The folder is checked first (writing nothing), so a refused run says one line and never waits for libtorch.
        observer.OnLog("loading libtorch…");
        var device = DeepCluster.Core.Native.TorchRuntime.ResolveDevice(config.Device);
        DeepCluster.Core.Native.Bf16Support.Require(DeepCluster.Core.Training.PrecisionNames.Parse(config.Precision), device);
        Directory.CreateDirectory(folder.Root);
        using var folderLock = FolderLock.Acquire(folder);
        if (restart && ExperimentPreflight.Restart(folder) is { } moved) observer.OnLog(moved);
        folder.CreateLayout();
        var target = ExperimentIdentity.Resolve(folder, journalSettings);
        var stale = DeepCluster.Core.IO.AtomicFile.RemoveStale(folder.Root);
        if (stale > 0) observer.OnLog($"removed {stale} half-written file(s) left by an interrupted run");
        observer.OnLog(journalSettings.Provider == JournalProvider.PostgreSql
            ? $"opening the journal of {folder.Root} ({target.PersistenceId}) on PostgreSQL {journalSettings.Server}…"
            : $"opening the journal in {folder.Root}…");

        var done = new TaskCompletionSource<ExperimentOutcome>(TaskCreationOptions.RunContinuationsAsynchronously);
        IActorRef? listener = null;
        var host = new HostBuilder()
            .ConfigureLogging(l => l.ClearProviders())
            .ConfigureServices(s => s
                .AddSingleton<IHostLifetime, CallerLifetime>()
                .AddAkka("deepcluster", b => b.AddDeepClusterPipeline(folder, hocon, pipeline,
                    system => listener = RunListener.Subscribe(system, observer, done), target)))
            .Build();
        var started = false;
        try
        {
            try { await host.StartAsync(cancel); started = true; }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                throw new InvalidDataException($"{hoconPath ?? HostConfig.DefaultPath}: the actor system did not start with this configuration " +
                                               $"({PipelineSupervisor.Describe(e)}).");
            }
            var system = host.Services.GetRequiredService<ActorSystem>();
            // The actor system can also end by itself (SIGTERM reaches Akka's CLR shutdown hook): the run ends with it.
            _ = system.WhenTerminated.ContinueWith(_ => done.TrySetResult(ExperimentOutcome.Interruption()), TaskScheduler.Default);
            var supervisor = await host.Services.GetRequiredService<ActorRegistry>().GetAsync<PipelineSupervisor>(cancel);
            var experiment = await supervisor.Ask<IActorRef>(GetExperiment.Instance, TimeSpan.FromSeconds(30), cancel);
            listener!.Tell(new WatchExperiment(experiment));
            experiment.Tell(new RunExperiment(config));
            await using (cancel.Register(() => done.TrySetResult(ExperimentOutcome.Interruption())))
                return await done.Task;
        }
        finally
        {
            try { await host.StopAsync(CancellationToken.None); }
            catch (Exception) when (!started) { /* what did start is stopped; the start's own error is the one reported */ }
            host.Dispose();
        }
    }

    /// <summary>
    /// The host's lifetime is the caller's: Ctrl+C / SIGTERM reach the pipeline only through the cancellation token
    /// (the CLI's), which ends the run and stops the host once. The default ConsoleLifetime would also catch those
    /// signals and stop the host a second time, concurrently, which could hang the shutdown.
    /// </summary>
    internal sealed class CallerLifetime : IHostLifetime
    {
        public Task WaitForStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;
        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}

/// <summary>How the run ended; <paramref name="Interrupted"/>: stopped by a signal or the caller, resumable.</summary>
public sealed record ExperimentOutcome(bool Success, string Message, bool Interrupted = false)
{
    public static ExperimentOutcome Interruption() => new(false, "interrupted; run the same command to continue", Interrupted: true);
}

/// <summary>
/// An exclusive lock on the experiment folder (flock on <c>.lock</c>), released by the OS even on <c>kill -9</c>:
/// two runs never write one experiment.
/// </summary>
public sealed class FolderLock : IDisposable
{
    readonly FileStream stream;
    FolderLock(FileStream stream) => this.stream = stream;

    public static FolderLock Acquire(ExperimentFolder folder)
    {
        try
        {
            var fs = new FileStream(folder.LockPath, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            fs.SetLength(0);
            var pid = System.Text.Encoding.ASCII.GetBytes(Environment.ProcessId.ToString());
            fs.Write(pid); fs.Flush();
            return new FolderLock(fs);
        }
        catch (IOException)
        {
            string owner = "";
            try { owner = $" (process {File.ReadAllText(folder.LockPath).Trim()})"; } catch { /* unreadable while locked */ }
            throw new ExperimentLockedException($"{folder.Root} is in use by another run{owner}; its journal is locked. Wait for it to end or stop it.");
        }
    }

    public void Dispose() => stream.Dispose();
}

public sealed class ExperimentLockedException(string message) : Exception(message);
