using Akka.Actor;

namespace DeepCluster.Actors.Clustering;

// The protocol between distributed k-means (KMeansCoordinatorActor) and its workers (KMeansWorkerActor): each worker
// holds one row range of the preprocessed features between steps; everything larger than a few numbers (statistics,
// centroids, partial sums, assignments) goes through files in the experiment folder, so a worker may run on another node.

/// <summary>A k-means worker announces itself to the clustering coordinator, which watches it and uses it in the next job.</summary>
public sealed record KMeansWorkerAvailable(IActorRef Worker);

/// <summary>A clustering coordinator looks for workers: a worker answers <paramref name="Coordinator"/> with <see cref="KMeansWorkerAvailable"/>.</summary>
public sealed record KMeansWorkersWanted(IActorRef Coordinator);

/// <summary>
/// Take rows <paramref name="Start"/> .. <paramref name="Start"/>+<paramref name="Count"/>-1 of the features file
/// <paramref name="FeaturesPath"/> for job <paramref name="JobId"/>: write their PCA statistics (Σx, XᵀX) to <paramref name="StatsPath"/>.
/// </summary>
public sealed record KMeansLoadRange(string JobId, string FeaturesPath, long Start, long Count, string StatsPath);

/// <summary>The statistics of the range are in the file the coordinator named.</summary>
public sealed record KMeansRangeLoaded(string JobId, long Start);

/// <summary>
/// Fit the PCA to <paramref name="Dims"/> dimensions from the statistics of every range (<paramref name="StatsPath"/>),
/// project and L2-normalise the range's rows and keep them, on <paramref name="Device"/> (null: the default), for the iterations.
/// </summary>
public sealed record KMeansProjectRange(string JobId, string StatsPath, int Dims, string? Device);

/// <summary>The range is projected: it is ready for the initial centroids and the iterations.</summary>
public sealed record KMeansRangeProjected(string JobId, long Start);

/// <summary>
/// The initial centroids: of the global rows in <paramref name="RowsPath"/> (int64), write the range's own to
/// <paramref name="PositionsPath"/> (their positions in the list, int64) and <paramref name="ValuesPath"/> (float32 rows).
/// </summary>
public sealed record KMeansGatherRows(string JobId, string RowsPath, string PositionsPath, string ValuesPath);

/// <summary>The range's share of the initial centroids is written.</summary>
public sealed record KMeansRowsGathered(string JobId, long Start);

/// <summary>
/// One Lloyd iteration's map step: assign the range's rows to the centroids in <paramref name="CentroidsPath"/>, write
/// the per-cluster sums (float64) to <paramref name="SumsPath"/> and counts (int64) to <paramref name="CountsPath"/>.
/// </summary>
public sealed record KMeansStep(string JobId, int Iteration, string CentroidsPath, string SumsPath, string CountsPath);

/// <summary>The range's partial of iteration <paramref name="Iteration"/>: its objective (sum of squared distances) and row count.</summary>
public sealed record KMeansStepped(string JobId, int Iteration, long Start, double Objective, long Points);

/// <summary>The final assignment: each row of the range to its nearest centroid of <paramref name="CentroidsPath"/>, written to <paramref name="AssignmentsPath"/> (int64).</summary>
public sealed record KMeansAssign(string JobId, string CentroidsPath, string AssignmentsPath);

/// <summary>The range's assignments are written; <paramref name="Objective"/>: the sum of their squared distances.</summary>
public sealed record KMeansAssigned(string JobId, long Start, double Objective);

/// <summary>A step failed on a worker; the clustering fails with <paramref name="Error"/>.</summary>
public sealed record KMeansWorkFailed(string JobId, string Error);

/// <summary>The job is over: the worker frees its range.</summary>
public sealed record KMeansRelease(string JobId);
