namespace DeepCluster.Core.Evaluation.Retrieval;

/// <summary>
/// What an instance-retrieval evaluation (<c>deepcluster eval-retrieval</c>) runs: the model (null: a randomly
/// initialised <see cref="Arch"/> drawn from <see cref="Seed"/>), the dataset, the <c>--other</c> dataset PCA-whitening
/// is learned on (null: no whitening), the larger image side <see cref="ImDim"/>, the R-MAC <see cref="Levels"/> and the
/// whitened dimension <see cref="PcaDim"/> (at most the feature map's channels).
/// </summary>
public sealed record RetrievalSettings(string? Model, string Data, string? Other, string Arch, int ImDim = 1024, int Levels = 3,
                                       int PcaDim = 512, long Seed = 31)
{
    /// <summary>Checks the numbers (one line naming the flag).</summary>
    public void Validate()
    {
        if (ImDim < 16) throw new ArgumentException($"--imdim {ImDim}: the larger image side must be at least 16 pixels.");
        if (Levels < 1) throw new ArgumentException($"--levels {Levels}: R-MAC needs at least one level.");
        if (PcaDim < 1) throw new ArgumentException($"--n_pca {PcaDim}: must be at least 1.");
    }
}

/// <summary>The AP of one query, in [0, 1], and its ranking of the database (image names, best first).</summary>
public sealed record RetrievalQueryScore(string Query, string Image, double Ap, IReadOnlyList<string> Ranking);

/// <summary>What a finished retrieval evaluation reports: per-query APs, their mean, the descriptor size, the PCA's retained energy.</summary>
public sealed record RetrievalResult(IReadOnlyList<RetrievalQueryScore> Queries, double Map, int Images, int DescriptorDim,
                                     int Channels, int PcaImages, double? PcaEnergy, double Seconds);
