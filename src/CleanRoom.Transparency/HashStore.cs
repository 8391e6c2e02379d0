// Storage for the 32-byte hashes of one level of an RFC 9162 §2.1 Merkle tree, in
// fixed 128 KiB chunks (4096 hashes) so that growth never copies the whole level and no
// single array limits the tree size. The first chunk starts small and doubles, so small trees
// stay small.
//
// Threading: one writer (the tree holds its write lock) and any number of readers. A reader
// only asks for indexes the tree published, through a volatile size, after writing them; the
// chunk directory and a replaced first chunk are published before that size, and the arrays
// they replace are never modified again, so a reader always sees complete hashes.
namespace CleanRoom.Transparency;

internal sealed class HashStore
{
    private const int ChunkShift = 12;
    private const int ChunkCapacity = 1 << ChunkShift;
    private const int FirstChunkCapacity = 4;
    private const int HashSize = MerkleHash.HashSize;

    private byte[]?[] _chunks = [new byte[FirstChunkCapacity * HashSize]];
    private long _count;

    public void Add(ReadOnlySpan<byte> hash)
    {
        var index = _count;
        var chunkIndex = (int)(index >> ChunkShift);
        var offset = (int)(index & (ChunkCapacity - 1)) * HashSize;

        var chunks = _chunks;
        if (chunkIndex == chunks.Length)
        {
            var grown = new byte[]?[chunks.Length * 2];
            Array.Copy(chunks, grown, chunks.Length);
            Volatile.Write(ref _chunks, grown);
            chunks = grown;
        }

        var chunk = chunks[chunkIndex];
        if (chunk is null)
        {
            chunk = new byte[ChunkCapacity * HashSize];
            Volatile.Write(ref chunks[chunkIndex], chunk);
        }
        else if (offset == chunk.Length)
        {
            // Only the first chunk is ever smaller than ChunkCapacity.
            var grown = new byte[Math.Min(chunk.Length * 2, ChunkCapacity * HashSize)];
            chunk.CopyTo(grown, 0);
            Volatile.Write(ref chunks[chunkIndex], grown);
            chunk = grown;
        }

        hash.CopyTo(chunk.AsSpan(offset, HashSize));
        _count = index + 1;
    }

    public ReadOnlySpan<byte> Get(long index)
    {
        var chunk = Volatile.Read(ref _chunks)[(int)(index >> ChunkShift)]!;
        return chunk.AsSpan((int)(index & (ChunkCapacity - 1)) * HashSize, HashSize);
    }
}
