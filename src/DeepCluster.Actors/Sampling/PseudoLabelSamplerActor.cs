using Akka.Actor;
using DeepCluster.Core.Clustering;
using DeepCluster.Core.IO;
using DeepCluster.Core.Sampling;

namespace DeepCluster.Actors.Sampling;

/// <summary>Draws the epoch's training order from the cluster assignments (main.py's UnifLabelSampler).</summary>
public sealed record SamplePseudoLabels(int Epoch, string AssignmentsPath, string Method, int K, double Reassign, long Seed, string OrderPath, string LabelsPath);

/// <summary>Dataset indices (<paramref name="OrderPath"/>) and their pseudo-labels (<paramref name="LabelsPath"/>) in training order.</summary>
public sealed record PseudoLabelsSampled(int Epoch, string OrderPath, string LabelsPath, int Count, int Clusters);

public sealed record SamplingFailed(int Epoch, string Error);

/// <summary>
/// Uniform sampling per cluster: each non-empty cluster contributes about N/clusters images, pseudo-label =
/// rank of the cluster among the non-empty ones (so the head has one output per non-empty cluster).
/// </summary>
public sealed class PseudoLabelSamplerActor : ReceiveActor
{
    public PseudoLabelSamplerActor()
    {
        Receive<SamplePseudoLabels>(msg =>
        {
            try
            {
                var assignments = NpyFile.ReadInt64(msg.AssignmentsPath);
                var lists = ClusterLists.FromAssignments(assignments, ClusteringRunner.ListCount(msg.Method, msg.K, assignments));
                var plan = PseudoLabelPlan.Create(lists.Select(l => (IReadOnlyList<int>)l).ToList(), assignments.Length, msg.Reassign, msg.Seed);
                Directory.CreateDirectory(Path.GetDirectoryName(msg.OrderPath)!);
                NpyFile.WriteInt64(msg.OrderPath, plan.Order.Select(i => (long)i).ToArray());
                NpyFile.WriteInt64(msg.LabelsPath, plan.Labels.Select(l => (long)l).ToArray());
                Sender.Tell(new PseudoLabelsSampled(msg.Epoch, msg.OrderPath, msg.LabelsPath, plan.Order.Length, plan.Clusters));
            }
            catch (Exception e) { Sender.Tell(new SamplingFailed(msg.Epoch, e.Message)); }
        });
    }

    public static Props Props() => Akka.Actor.Props.Create(() => new PseudoLabelSamplerActor());
}
