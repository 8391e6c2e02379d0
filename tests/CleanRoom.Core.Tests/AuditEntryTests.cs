using CleanRoom.Core;

namespace CleanRoom.Core.Tests;

public sealed class AuditEntryTests
{
    public static TheoryData<string?, string?, long, long, int> Cases() => new()
    {
        { null, null, 0, 0, 0 },
        { "request refused: its signature does not verify", "auth.bad_signature", 1, 1234567, 0 },
        { "quote \" backslash \\ tab \t newline \n control \u0001 é € 😀 <script>&'+", "x.y", 42, 0, 60 },
        { "", "", 9_007_199_254_740_991, 9_999_999, -330 },
        { "a", null, 7, 10_000_000 - 1, 14 * 60 },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void The_direct_canonical_form_equals_the_generic_canonical_form(string? reason, string? code, long seq, long ticks, int offsetMinutes)
    {
        var entry = new AuditEntry
        {
            Seq = seq,
            Time = new DateTimeOffset(2026, 11, 23, 10, 31, 9, TimeSpan.FromMinutes(offsetMinutes)).AddTicks(ticks),
            Actor = "key:AbC-_+/ü",
            Action = "request.refused",
            Target = "contract/c1 \"x\"",
            Outcome = "refused",
            ReasonCode = code,
            Reason = reason,
            Prev = AuditEntry.GenesisPrev,
        };

        Assert.Equal(CanonicalJson.Serialize(entry), entry.CanonicalBytes());
    }

    [Fact]
    public void Random_entries_agree_with_the_generic_canonical_form()
    {
        var random = new Random(11);
        for (var i = 0; i < 2000; i++)
        {
            var chars = Enumerable.Range(0, random.Next(0, 40)).Select(_ => (char)random.Next(0, 0xD7FF)).ToArray();
            var entry = new AuditEntry
            {
                Seq = random.NextInt64(0, 1L << 53),
                Time = DateTimeOffset.UnixEpoch.AddTicks(random.NextInt64(0, 60_000_000_000_000_000)).ToOffset(TimeSpan.FromMinutes(random.Next(-14 * 60, 14 * 60))),
                Actor = new string(chars),
                Action = "a." + i,
                Target = new string(chars.Reverse().ToArray()),
                Outcome = "ok",
                ReasonCode = i % 3 == 0 ? null : "c" + i,
                Reason = i % 2 == 0 ? null : new string(chars),
                Prev = AuditEntry.GenesisPrev,
            };
            Assert.Equal(CanonicalJson.Serialize(entry), entry.CanonicalBytes());
        }
    }
}
