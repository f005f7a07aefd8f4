using System.CommandLine;
using System.Runtime.InteropServices;
using DeepCluster.Actors.Cluster;
using DeepCluster.Actors.Hosting;
using DeepCluster.Api;

namespace DeepCluster.Cli.Commands;

/// <summary>
/// `deepcluster host`: a node of the DeepCluster cluster, started with a HOCON file (config/host.conf: one machine,
/// every role). It holds experiments (coordinator), does their work (worker) and serves the control API (api) that
/// `submit`, `list`, `status`, `pause`, `resume`, `stop` and `logs` talk to. Runs until Ctrl+C or SIGTERM; running
/// experiments continue from their last durable point when a host starts again.
/// </summary>
public static class HostCommand
{
    public static Command Create(PipelineProps? pipeline = null)
    {
        var config = new Option<string?>("--config") { Description = "HOCON configuration of the node, e.g. config/host.conf (default: the shipped config/deepcluster.conf)" };
        var port = new Option<int?>("--port") { Description = "Akka.Remote port (overrides deepcluster.host.port; 0: any free port)" };
        var seeds = new Option<string?>("--seed-nodes") { Description = "nodes to join, comma-separated akka.tcp://deepcluster@HOST:PORT (overrides deepcluster.host.seed-nodes)" };
        var roles = new Option<string?>("--roles") { Description = "comma-separated roles among coordinator, worker, api (overrides deepcluster.host.roles)" };
        var journal = TrainOptions.JournalOption();
        var experiments = new Option<string?>("--experiments") { Description = "the experiments folder, shared by every node (overrides deepcluster.host.experiments)" };
        var apiPort = new Option<int?>("--api-port") { Description = "port of the control API (overrides deepcluster.host.api.port; 0: any free port)" };
        var cmd = new Command("host", "Run a cluster node that holds, runs and serves experiments (stop it with Ctrl+C).")
        {
            config, port, seeds, roles, journal, experiments, apiPort,
        };
        cmd.SetAction(async (pr, ct) =>
        {
            // SIGTERM (systemd, docker stop) and Ctrl+C stop the node in order: leave the cluster, stop the experiments at
            // their last durable point, close the journal.
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
            using var term = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => { c.Cancel = true; stop.Cancel(); });
            using var interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, c => { c.Cancel = true; stop.Cancel(); });
            var file = pr.GetValue(config);
            var (hocon, settings) = HostConfig.Load(file, pr.GetValue(journal));
            settings.ApplyToDecoding();
            var baseDir = file is null ? Environment.CurrentDirectory : Path.GetDirectoryName(Path.GetFullPath(file))!;
            var overrides = new HostOverrides(pr.GetValue(port), List(pr.GetValue(seeds)), List(pr.GetValue(roles)), pr.GetValue(journal),
                                              pr.GetValue(experiments), pr.GetValue(apiPort));
            var host = HostSettingsLoader.From(hocon, file ?? HostConfig.DefaultPath, baseDir, overrides);
            var journalSettings = JournalSettings.From(hocon);
            ExperimentPreflight.CheckServer(journalSettings);
            if (host.Has(HostRoles.Worker) || host.Has(HostRoles.Coordinator))
            {
                // Workers and the trainer use it from their first batch: loaded now, not inside the first epoch.
                Console.WriteLine("loading libtorch…");
                DeepCluster.Core.Native.TorchRuntime.EnsureLoaded();
            }
            await using var node = await HostNode.StartAsync(host, hocon, pipeline, stop.Token);
            var where = journalSettings.Provider == JournalProvider.PostgreSql ? $"PostgreSQL {journalSettings.Server}" : ClusterHosting.HostJournalPath(host);
            await using var api = host.Has(HostRoles.Api) ? await ControlApiServer.StartAsync(host.Api, node.Control, stop.Token) : null;
            Console.WriteLine($"host {node.Address} up: roles {string.Join(",", host.Roles)}, experiments {host.ExperimentsRoot}, journal {where}");
            if (api is not null) Console.WriteLine($"control API {api.Url} (bearer token in {host.Api.TokenFile})");
            try { await Task.Delay(Timeout.Infinite, stop.Token); }
            catch (OperationCanceledException) { }
            Console.WriteLine("host stopping: running experiments continue from their last durable point at the next start");
            return 0;
        });
        return cmd;
    }

    static IReadOnlyList<string>? List(string? value) =>
        value is null ? null : value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
}
