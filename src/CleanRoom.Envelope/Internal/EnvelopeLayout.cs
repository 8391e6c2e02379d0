namespace CleanRoom.Envelope.Internal;

/// <summary>Byte offsets and sizes of format version 1 (SECURITY.md (Dataset envelope), "Header").</summary>
internal static class EnvelopeLayout
{
    /// <summary>"CRENV" CR LF SUB: PNG-style, so line-ending conversion or text-mode transfer is detected.</summary>
    public static ReadOnlySpan<byte> Magic => [0x43, 0x52, 0x45, 0x4E, 0x56, 0x0D, 0x0A, 0x1A];

    public const int MagicOffset = 0;
    public const int MagicSize = 8;
    public const int VersionOffset = 8;
    public const int AlgorithmOffset = 9;
    public const int ChunkSizeOffset = 10;
    public const int SaltOffset = 14;
    public const int SaltSize = 32;
    public const int NoncePrefixOffset = 46;
    public const int NoncePrefixSize = 7;
    public const int DatasetIdLengthOffset = 53;

    /// <summary>Bytes up to and including the dataset id length byte.</summary>
    public const int FixedSize = 54;

    public const int MaxStringBytes = 255;

    /// <summary>Fixed part, dataset id, content-type length byte, content type.</summary>
    public const int MaxHeaderSize = FixedSize + MaxStringBytes + 1 + MaxStringBytes;

    public const int TagSize = 16;
    public const int NonceSize = 12;
    public const int CounterOffset = NoncePrefixSize;
    public const int LastFlagOffset = 11;
}
