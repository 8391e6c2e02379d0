namespace CleanRoom.Enclave;

/// <summary>An expected refusal or failure inside a job: reported to the server and audited, never a crash.</summary>
public sealed class JobRefusalException(string code, string reason, bool isPolicyRefusal = true) : Exception(reason)
{
    public string Code { get; } = code;

    /// <summary>True for a policy refusal (outcome "refused"); false for a processing failure (outcome "failed").</summary>
    public bool IsPolicyRefusal { get; } = isPolicyRefusal;
}
