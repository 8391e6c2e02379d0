namespace CleanRoom.Envelope.Tests;

/// <summary>Randomised properties with a fixed seed, so a failure reproduces.</summary>
public sealed class EnvelopePropertyTests
{
    [Fact]
    public async Task Random_sizes_and_chunk_sizes_round_trip_and_any_single_flip_fails()
    {
        var random = new Random(20261123);
        for (int iteration = 0; iteration < 60; iteration++)
        {
            int chunkSize = random.Next(DatasetEnvelope.MinChunkSize, 3 * DatasetEnvelope.MinChunkSize);
            int size = random.Next(4) switch
            {
                0 => random.Next(0, 3),
                1 => chunkSize * random.Next(0, 5),
                2 => (chunkSize * random.Next(1, 5)) + random.Next(-1, 2),
                _ => random.Next(0, 6 * chunkSize),
            };
            string context = $"iteration {iteration}: size {size}, chunk size {chunkSize}";
            byte[] key = Envelopes.NewKey();
            byte[] plaintext = Envelopes.Plaintext(size, seed: iteration);

            (byte[] ciphertext, EnvelopeInfo info) = await Envelopes.EncryptAsync(plaintext, key, Envelopes.Options(chunkSize));
            (EnvelopeDecryptResult result, byte[] decrypted) = await Envelopes.DecryptAsync(ciphertext, key);
            (byte[] streamed, EnvelopeAuthenticationException? streamError) = Envelopes.ReadAll(ciphertext, key, random.Next(1, 2 * chunkSize));

            Assert.True(result.Success, $"{context}: {result.Reason}");
            Assert.True(plaintext.AsSpan().SequenceEqual(decrypted), context);
            Assert.Null(streamError);
            Assert.True(plaintext.AsSpan().SequenceEqual(streamed), context);
            Assert.Equal(ciphertext.Length, info.CiphertextLength);

            byte[] tampered = (byte[])ciphertext.Clone();
            int position = random.Next(tampered.Length);
            tampered[position] ^= (byte)random.Next(1, 256);
            (EnvelopeDecryptResult tamperedResult, byte[] partial) = await Envelopes.DecryptAsync(tampered, key);
            Assert.False(tamperedResult.Success, $"{context}: flip at {position} went unnoticed");
            Assert.True(plaintext.AsSpan().StartsWith(partial), $"{context}: unauthenticated bytes were written");

            int cut = random.Next(tampered.Length);
            (EnvelopeDecryptResult cutResult, _) = await Envelopes.DecryptAsync(ciphertext.AsSpan(0, cut).ToArray(), key);
            Assert.False(cutResult.Success, $"{context}: cut at {cut} went unnoticed");
        }
    }
}
