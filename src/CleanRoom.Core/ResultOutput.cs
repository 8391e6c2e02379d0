namespace CleanRoom.Core;

/// <summary>The result output sealed to one recipient: HPKE enc and ciphertext, both base64url.</summary>
public sealed record ResultOutput(string Recipient, string Enc, string Ciphertext);
