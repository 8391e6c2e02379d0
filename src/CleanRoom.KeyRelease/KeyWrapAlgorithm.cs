namespace CleanRoom.KeyRelease;

/// <summary>
/// The <c>enc</c> values of an Azure Key Vault / Managed HSM key release: how the released key is
/// wrapped for the attested environment (RSA-OAEP over an ephemeral AES-256 key, then RFC 5649).
/// </summary>
public enum KeyWrapAlgorithm
{
    /// <summary>Not a valid value; the default so that an unset field fails closed.</summary>
    None = 0,

    /// <summary><c>CKM_RSA_AES_KEY_WRAP</c>: RSA-OAEP with SHA-1 (PKCS#11 convention), AES-256 KWP.</summary>
    CkmRsaAesKeyWrap = 1,

    /// <summary><c>RSA_AES_KEY_WRAP_256</c>: RSA-OAEP with SHA-256, AES-256 KWP.</summary>
    RsaAesKeyWrap256 = 2,

    /// <summary><c>RSA_AES_KEY_WRAP_384</c>: RSA-OAEP with SHA-384, AES-256 KWP.</summary>
    RsaAesKeyWrap384 = 3,
}
