using DeepCluster.Actors.Progress;
using DeepCluster.Core.Experiment;

namespace DeepCluster.Actors.Experiment;

/// <summary>
/// A file a phase needs that is damaged or missing (<paramref name="Problem"/> says how), and the phase that makes it
/// (<paramref name="MadeBy"/>; null for the model the epoch starts from, which no phase of this epoch can remake).
/// </summary>
public sealed record Damage(Artifact File, string Problem, Phase? MadeBy);

/// <summary>The durable files each phase of an epoch reads, checked against the journal before (and after) use.</summary>
public static class EpochInputs
{
    /// <summary>What <paramref name="phase"/> reads in state <paramref name="s"/>, each with the phase that makes it.</summary>
    public static IEnumerable<(Artifact File, Phase? MadeBy)> Of(ExperimentState s, Phase phase)
    {
        switch (phase)
        {
            case Phase.Features:
                yield return (s.Model!, null);
                break;
            case Phase.Clustering:
                yield return (s.Features!.Features, Phase.Features);
                if (s.Features.TrueLabels is { } labels) yield return (labels, Phase.Features);
                break;
            case Phase.Sampling:
                yield return (s.Clustering!.Assignments, Phase.Clustering);
                break;
            case Phase.Training:
                yield return (s.Sampling!.Order, Phase.Sampling);
                yield return (s.Sampling.Labels, Phase.Sampling);
                if (s.LastCheckpoint is { } c) yield return (c.Checkpoint, Phase.Training);
                else yield return (s.Model!, null);
                break;
        }
    }

    /// <summary>The first input of <paramref name="phase"/> that no longer matches the journal, or null.</summary>
    public static Damage? Check(ExperimentState s, ExperimentFolder folder, Phase phase)
    {
        foreach (var (file, madeBy) in Of(s, phase))
            if (file.Problem(folder) is { } problem) return new Damage(file, problem, madeBy);
        return null;
    }
}
