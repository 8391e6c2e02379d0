using Azure;

namespace CleanRoom.KeyRelease;

/// <summary>
/// A call to Azure Attestation or Key Vault / Managed HSM failed: a non-success status, or a
/// success status whose body is not what the API defines. Carries the HTTP status and the
/// service's <c>error.code</c>; the message never echoes tokens or key material.
/// </summary>
public sealed class KeyReleaseException : RequestFailedException
{
    /// <summary><see cref="RequestFailedException.ErrorCode"/> when a success answer had an unusable body.</summary>
    public const string MalformedResponseCode = "MalformedResponse";

    internal KeyReleaseException(string service, int status, string? errorCode, string? innerErrorCode, string detail)
        : base(status, $"{service} request failed: HTTP {status}{(errorCode is null ? string.Empty : $", error code '{errorCode}'")}. {detail}", errorCode, null)
    {
        Service = service;
        InnerErrorCode = innerErrorCode;
    }

    /// <summary>Which service failed ("Azure Attestation" or "Key Vault").</summary>
    public string Service { get; }

    /// <summary>The service's <c>error.innererror.code</c>, when it sent one.</summary>
    public string? InnerErrorCode { get; }

    /// <summary>True for statuses that may succeed on a later attempt (after the pipeline's own retries).</summary>
    public bool IsTransient => Status is 408 or 429 or >= 500;
}
