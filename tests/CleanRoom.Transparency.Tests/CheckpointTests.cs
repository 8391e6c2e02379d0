using static CleanRoom.Transparency.Tests.Vectors.Rfc6962Vectors;

namespace CleanRoom.Transparency.Tests;

public sealed class CheckpointTests
{
    private const string CanonicalJson =
        """{"origin":"cleanroom.example/audit","rootHash":"XcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz-Nw7_RgQyg","timestamp":"2026-11-23T09:37:10Z","treeSize":8}""";

    private static readonly DateTimeOffset s_time = new(2026, 11, 23, 9, 37, 10, TimeSpan.Zero);

    private static Checkpoint Sample() => new("cleanroom.example/audit", 8, Hex(Roots[7]), s_time);

    [Fact]
    public void Json_is_canonical_with_members_in_lexicographic_order_and_no_whitespace()
    {
        Assert.Equal(CanonicalJson, Sample().ToJson());
    }

    [Fact]
    public void Canonical_json_parses_back_to_an_equal_checkpoint()
    {
        Assert.True(Checkpoint.TryParse(CanonicalJson, out var parsed, out var error), error);

        Assert.Equal(Sample(), parsed);
        Assert.Equal(Hex(Roots[7]), parsed.GetRootHash());
        Assert.Equal(8, parsed.TreeSize);
        Assert.Equal(s_time, parsed.Timestamp);
    }

    [Fact]
    public void Timestamp_is_kept_in_utc_to_the_second()
    {
        var local = new DateTimeOffset(2026, 11, 23, 11, 37, 10, 999, TimeSpan.FromHours(2));

        var checkpoint = new Checkpoint("log", 0, MerkleHash.EmptyRoot, local);

        Assert.Equal(TimeSpan.Zero, checkpoint.Timestamp.Offset);
        Assert.Equal(s_time, checkpoint.Timestamp);
        Assert.Contains("\"timestamp\":\"2026-11-23T09:37:10Z\"", checkpoint.ToJson(), StringComparison.Ordinal);
    }

    [Fact]
    public void Origin_with_quote_and_backslash_is_escaped_and_round_trips()
    {
        var checkpoint = new Checkpoint("a\"b\\c", 1, Hex(Roots[0]), s_time);
        var json = checkpoint.ToJson();

        Assert.StartsWith("{\"origin\":\"a\\\"b\\\\c\",", json, StringComparison.Ordinal);
        Assert.True(Checkpoint.TryParse(json, out var parsed, out var error), error);
        Assert.Equal(checkpoint, parsed);
    }

    [Theory]
    [InlineData("""{ "origin":"cleanroom.example/audit","rootHash":"XcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz-Nw7_RgQyg","timestamp":"2026-11-23T09:37:10Z","treeSize":8}""", "checkpoint.not_canonical")]
    [InlineData("""{"rootHash":"XcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz-Nw7_RgQyg","origin":"cleanroom.example/audit","timestamp":"2026-11-23T09:37:10Z","treeSize":8}""", "checkpoint.not_canonical")]
    [InlineData("""{"extra":1,"origin":"cleanroom.example/audit","rootHash":"XcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz-Nw7_RgQyg","timestamp":"2026-11-23T09:37:10Z","treeSize":8}""", "checkpoint.not_canonical")]
    [InlineData("""{"origin":"other","origin":"cleanroom.example/audit","rootHash":"XcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz-Nw7_RgQyg","timestamp":"2026-11-23T09:37:10Z","treeSize":8}""", "checkpoint.not_canonical")]
    [InlineData("""{"origin":"cleanroom.example\/audit","rootHash":"XcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz-Nw7_RgQyg","timestamp":"2026-11-23T09:37:10Z","treeSize":8}""", "checkpoint.not_canonical")]
    [InlineData("""{"origin":"cleanroom.example/audit","rootHash":"XcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz-Nw7_RgQyg","timestamp":"2026-11-23T09:37:10Z","treeSize":8.0}""", "checkpoint.malformed")]
    [InlineData("""{"origin":"cleanroom.example/audit","rootHash":"XcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz-Nw7_RgQyg","timestamp":"2026-11-23T09:37:10Z","treeSize":8e0}""", "checkpoint.malformed")]
    [InlineData("""{"origin":"cleanroom.example/audit","rootHash":"XcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz-Nw7_RgQyg","timestamp":"2026-11-23T09:37:10Z","treeSize":-1}""", "checkpoint.malformed")]
    [InlineData("""{"origin":"cleanroom.example/audit","rootHash":"XcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz-Nw7_RgQyg","timestamp":"2026-11-23T09:37:10Z","treeSize":9007199254740992}""", "checkpoint.malformed")]
    [InlineData("""{"origin":"cleanroom.example/audit","rootHash":"XcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz-Nw7_RgQyg","timestamp":"2026-11-23T09:37:10Z","treeSize":"8"}""", "checkpoint.malformed")]
    [InlineData("""{"origin":"cleanroom.example/audit","rootHash":"XcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=","timestamp":"2026-11-23T09:37:10Z","treeSize":8}""", "checkpoint.malformed")]
    [InlineData("""{"origin":"cleanroom.example/audit","rootHash":"XcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz-Nw7_RgQyh","timestamp":"2026-11-23T09:37:10Z","treeSize":8}""", "checkpoint.malformed")]
    [InlineData("""{"origin":"cleanroom.example/audit","rootHash":"XcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz-Nw7_RgQ","timestamp":"2026-11-23T09:37:10Z","treeSize":8}""", "checkpoint.malformed")]
    [InlineData("""{"origin":"cleanroom.example/audit","rootHash":"XcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz-Nw7_RgQyg","timestamp":"2026-11-23T09:37:10+00:00","treeSize":8}""", "checkpoint.malformed")]
    [InlineData("""{"origin":"cleanroom.example/audit","rootHash":"XcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz-Nw7_RgQyg","timestamp":"2026-11-23T09:37:10.5Z","treeSize":8}""", "checkpoint.malformed")]
    [InlineData("""{"origin":"cleanroom.example/audit","rootHash":"XcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz-Nw7_RgQyg","timestamp":"2026-11-23 09:37:10Z","treeSize":8}""", "checkpoint.malformed")]
    [InlineData("""{"origin":"cleanroom.example/audit","rootHash":"XcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz-Nw7_RgQyg","timestamp":"2026-11-23T09:37:10Z"}""", "checkpoint.malformed")]
    [InlineData("""{"origin":"has space","rootHash":"XcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz-Nw7_RgQyg","timestamp":"2026-11-23T09:37:10Z","treeSize":8}""", "checkpoint.malformed")]
    [InlineData("""{"origin":"","rootHash":"XcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz-Nw7_RgQyg","timestamp":"2026-11-23T09:37:10Z","treeSize":8}""", "checkpoint.malformed")]
    [InlineData("""{"origin":"caf\u00e9","rootHash":"XcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz-Nw7_RgQyg","timestamp":"2026-11-23T09:37:10Z","treeSize":8}""", "checkpoint.malformed")]
    [InlineData("""[1,2,3]""", "checkpoint.malformed")]
    [InlineData("""{"origin":""", "checkpoint.malformed")]
    [InlineData("", "checkpoint.malformed")]
    public void Non_canonical_or_malformed_json_is_refused_with_a_stable_code(string json, string code)
    {
        Assert.False(Checkpoint.TryParse(json, out var checkpoint, out var error));

        Assert.Null(checkpoint);
        Assert.StartsWith(code + ": ", error, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', error);
    }

    [Fact]
    public void Oversized_json_is_refused_without_being_parsed()
    {
        var json = CanonicalJson.Replace("cleanroom.example/audit", new string('a', 5000), StringComparison.Ordinal);

        Assert.False(Checkpoint.TryParse(json, out _, out var error));
        Assert.StartsWith("checkpoint.malformed: ", error, StringComparison.Ordinal);
    }

    [Fact]
    public void Refusal_does_not_echo_the_input()
    {
        var json = CanonicalJson.Replace("cleanroom.example/audit", "secret value", StringComparison.Ordinal);

        Assert.False(Checkpoint.TryParse(json, out _, out var error));
        Assert.DoesNotContain("secret", error, StringComparison.Ordinal);
    }

    [Fact]
    public void Constructor_rejects_values_outside_the_format()
    {
        var root = Hex(Roots[0]);

        Assert.Throws<ArgumentException>(() => new Checkpoint("", 1, root, s_time));
        Assert.Throws<ArgumentException>(() => new Checkpoint("new\nline", 1, root, s_time));
        Assert.Throws<ArgumentException>(() => new Checkpoint(new string('a', 256), 1, root, s_time));
        Assert.Throws<ArgumentOutOfRangeException>(() => new Checkpoint("log", -1, root, s_time));
        Assert.Throws<ArgumentOutOfRangeException>(() => new Checkpoint("log", Checkpoint.MaxTreeSize + 1, root, s_time));
        Assert.Throws<ArgumentException>(() => new Checkpoint("log", 1, root.AsSpan(1), s_time));
    }
}
