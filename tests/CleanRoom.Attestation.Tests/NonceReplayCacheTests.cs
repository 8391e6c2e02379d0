namespace CleanRoom.Attestation.Tests;

public sealed class NonceReplayCacheTests
{
    private static readonly DateTimeOffset s_start = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    [Fact]
    public void First_use_of_a_nonce_is_recorded()
    {
        var cache = new NonceReplayCache(TimeSpan.FromHours(8), new FixedTimeProvider(s_start));

        Assert.True(cache.TryRecord("n1", out var reason));
        Assert.Null(reason);
        Assert.Equal(1, cache.Count);
    }

    [Fact]
    public void Replayed_nonce_within_the_token_lifetime_is_refused()
    {
        var time = new FixedTimeProvider(s_start);
        var cache = new NonceReplayCache(TimeSpan.FromHours(8), time);
        cache.TryRecord("n1", out _);
        time.Now = s_start.AddHours(8).AddSeconds(-1);

        Assert.False(cache.TryRecord("n1", out var reason));
        Assert.Contains("replay", reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Nonce_is_forgotten_once_the_token_lifetime_has_passed()
    {
        var time = new FixedTimeProvider(s_start);
        var cache = new NonceReplayCache(TimeSpan.FromHours(8), time);
        cache.TryRecord("n1", out _);
        time.Now = s_start.AddHours(8);

        Assert.True(cache.TryRecord("n1", out _));
        Assert.Equal(1, cache.Count);
    }

    [Fact]
    public void Full_cache_refuses_new_nonces_rather_than_forgetting_live_ones()
    {
        var cache = new NonceReplayCache(TimeSpan.FromHours(8), new FixedTimeProvider(s_start), capacity: 2);
        cache.TryRecord("n1", out _);
        cache.TryRecord("n2", out _);

        Assert.False(cache.TryRecord("n3", out var reason));
        Assert.Contains("too many", reason, StringComparison.Ordinal);
        Assert.False(cache.TryRecord("n1", out _));
    }

    [Fact]
    public void Nonces_compare_ordinally()
    {
        var cache = new NonceReplayCache(TimeSpan.FromHours(8), new FixedTimeProvider(s_start));
        cache.TryRecord("abc", out _);

        Assert.True(cache.TryRecord("ABC", out _));
    }
}
