namespace CleanRoom.Core;

/// <summary>The RFC 9180 AEAD identifiers this implementation supports (§7.3).</summary>
public enum HpkeAead : ushort
{
    /// <summary>AES-128-GCM (Nk = 16): only for the RFC's Appendix A.1 known-answer vectors.</summary>
    Aes128Gcm = 0x0001,

    /// <summary>AES-256-GCM (Nk = 32): what CleanRoom seals with.</summary>
    Aes256Gcm = 0x0002,
}
