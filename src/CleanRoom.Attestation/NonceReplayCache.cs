namespace CleanRoom.Attestation;

/// <summary>
/// Remembers the request nonces an attestation authority has issued tokens for, so a captured
/// attest request cannot be replayed for a fresh token. In memory only: each nonce is kept for the
/// token lifetime (a token obtained from a replay could not outlive the original anyway), so a
/// restart forgets them — acceptable for the single-process local authority, and documented as such.
/// Bounded: when full of unexpired nonces it refuses new ones (fails closed) rather than forgetting.
/// </summary>
public sealed class NonceReplayCache(TimeSpan lifetime, TimeProvider? timeProvider = null, int capacity = NonceReplayCache.DefaultCapacity)
{
    public const int DefaultCapacity = 100_000;

    private readonly TimeProvider _time = timeProvider ?? TimeProvider.System;
    private readonly Dictionary<string, DateTimeOffset> _expiry = new(StringComparer.Ordinal);
    private readonly Queue<(string Nonce, DateTimeOffset Expires)> _order = new();
    private readonly Lock _lock = new();

    public TimeSpan Lifetime { get; } = lifetime > TimeSpan.Zero ? lifetime : throw new ArgumentOutOfRangeException(nameof(lifetime));

    /// <summary>Number of nonces currently remembered.</summary>
    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _expiry.Count;
            }
        }
    }

    /// <summary>
    /// Records <paramref name="nonce"/> as used; false (with a one-line reason) when it was already
    /// used within the lifetime or the cache is full.
    /// </summary>
    public bool TryRecord(string nonce, out string? reason)
    {
        ArgumentException.ThrowIfNullOrEmpty(nonce);
        var now = _time.GetUtcNow();
        lock (_lock)
        {
            while (_order.TryPeek(out var oldest) && oldest.Expires <= now)
            {
                _order.Dequeue();
                _expiry.Remove(oldest.Nonce);
            }

            if (_expiry.ContainsKey(nonce))
            {
                reason = $"the nonce was already used in an attestation request within the last {Lifetime.TotalSeconds:0} s (replay)";
                return false;
            }

            if (_expiry.Count >= capacity)
            {
                reason = "too many attestation requests within the token lifetime; try again later";
                return false;
            }

            var expires = now + Lifetime;
            _expiry[nonce] = expires;
            _order.Enqueue((nonce, expires));
            reason = null;
            return true;
        }
    }
}
