using System.Security.Cryptography;

namespace CleanRoom.KeyRelease;

/// <summary>Wire names of <see cref="KeyWrapAlgorithm"/> and the OAEP padding each one implies.</summary>
public static class KeyWrapAlgorithmNames
{
    /// <summary>Wire name of <see cref="KeyWrapAlgorithm.CkmRsaAesKeyWrap"/>.</summary>
    public const string CkmRsaAesKeyWrap = "CKM_RSA_AES_KEY_WRAP";

    /// <summary>Wire name of <see cref="KeyWrapAlgorithm.RsaAesKeyWrap256"/>.</summary>
    public const string RsaAesKeyWrap256 = "RSA_AES_KEY_WRAP_256";

    /// <summary>Wire name of <see cref="KeyWrapAlgorithm.RsaAesKeyWrap384"/>.</summary>
    public const string RsaAesKeyWrap384 = "RSA_AES_KEY_WRAP_384";

    /// <summary>The wire name; throws for <see cref="KeyWrapAlgorithm.None"/> or an undefined value (a bug).</summary>
    public static string ToWireName(this KeyWrapAlgorithm algorithm) => algorithm switch
    {
        KeyWrapAlgorithm.CkmRsaAesKeyWrap => CkmRsaAesKeyWrap,
        KeyWrapAlgorithm.RsaAesKeyWrap256 => RsaAesKeyWrap256,
        KeyWrapAlgorithm.RsaAesKeyWrap384 => RsaAesKeyWrap384,
        _ => throw new ArgumentOutOfRangeException(nameof(algorithm), algorithm, "Not a key wrap algorithm."),
    };

    /// <summary>Parses an exact (case-sensitive) wire name.</summary>
    public static bool TryParse(string? wireName, out KeyWrapAlgorithm algorithm)
    {
        algorithm = wireName switch
        {
            CkmRsaAesKeyWrap => KeyWrapAlgorithm.CkmRsaAesKeyWrap,
            RsaAesKeyWrap256 => KeyWrapAlgorithm.RsaAesKeyWrap256,
            RsaAesKeyWrap384 => KeyWrapAlgorithm.RsaAesKeyWrap384,
            _ => KeyWrapAlgorithm.None,
        };
        return algorithm != KeyWrapAlgorithm.None;
    }

    internal static bool IsDefined(KeyWrapAlgorithm algorithm) =>
        algorithm is KeyWrapAlgorithm.CkmRsaAesKeyWrap or KeyWrapAlgorithm.RsaAesKeyWrap256 or KeyWrapAlgorithm.RsaAesKeyWrap384;

    internal static RSAEncryptionPadding OaepPadding(KeyWrapAlgorithm algorithm) => algorithm switch
    {
        KeyWrapAlgorithm.CkmRsaAesKeyWrap => RSAEncryptionPadding.OaepSHA1,
        KeyWrapAlgorithm.RsaAesKeyWrap256 => RSAEncryptionPadding.OaepSHA256,
        KeyWrapAlgorithm.RsaAesKeyWrap384 => RSAEncryptionPadding.OaepSHA384,
        _ => throw new ArgumentOutOfRangeException(nameof(algorithm), algorithm, "Not a key wrap algorithm."),
    };
}
