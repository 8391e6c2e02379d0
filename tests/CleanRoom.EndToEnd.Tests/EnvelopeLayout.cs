using CleanRoom.Envelope;

namespace CleanRoom.EndToEnd.Tests;

/// <summary>Where the chunk records of an envelope file start and how long each full one is (see SECURITY.md).</summary>
internal static class EnvelopeLayout
{
    private const int TagLength = 16;

    public static int HeaderLength(byte[] envelope)
    {
        using var stream = new MemoryStream(envelope);
        Assert.True(DatasetEnvelope.TryReadHeader(stream, out var header, out var error), error);
        return header!.Length;
    }

    public static int ChunkRecordLength(byte[] envelope)
    {
        using var stream = new MemoryStream(envelope);
        Assert.True(DatasetEnvelope.TryReadHeader(stream, out var header, out var error), error);
        return header!.ChunkSize + TagLength;
    }
}
