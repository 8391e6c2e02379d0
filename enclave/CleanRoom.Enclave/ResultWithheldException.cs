namespace CleanRoom.Enclave;

/// <summary>
/// The enclave's consent check before releasing a result found that the server no longer runs the job (consent revoked,
/// contract terminated, job cancelled): the signed result is dropped, never submitted, and the job is reported as cancelled.
/// </summary>
public sealed class ResultWithheldException(string code, string reason) : Exception(reason)
{
    /// <summary>The reason code the server gave the job (for example consent.revoked).</summary>
    public string Code { get; } = code;
}
