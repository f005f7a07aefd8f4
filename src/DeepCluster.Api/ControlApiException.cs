namespace DeepCluster.Api;

/// <summary>
/// The control API could not be used: the host cannot be reached or did not answer in time, refused the token, or
/// answered with an error (<see cref="Status"/>: its HTTP status, null when there was no answer). The message is one
/// line for the user.
/// </summary>
public sealed class ControlApiException(string message, int? status = null) : IOException(message)
{
    public int? Status { get; } = status;
}
