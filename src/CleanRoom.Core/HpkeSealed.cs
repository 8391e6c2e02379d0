namespace CleanRoom.Core;

/// <summary>A single-shot HPKE ciphertext: the encapsulated key (32 bytes) and AEAD ciphertext ‖ 16-byte tag.</summary>
public sealed record HpkeSealed(byte[] Enc, byte[] Ciphertext);
