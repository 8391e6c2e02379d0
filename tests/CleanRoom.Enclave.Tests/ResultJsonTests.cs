using System.Numerics;
using System.Text.Json;
using CleanRoom.Enclave;

namespace CleanRoom.Enclave.Tests;

public sealed class ResultJsonTests
{
    [Fact]
    public void Engine_values_map_to_stable_json()
    {
        Assert.Equal("12", JobRunner.ToJson(new BigInteger(12)).GetRawText());
        Assert.Equal("\"170141183460469231731687303715884105727\"", JobRunner.ToJson(BigInteger.Parse("170141183460469231731687303715884105727", System.Globalization.CultureInfo.InvariantCulture)).GetRawText());
        Assert.Equal("13.75", JobRunner.ToJson(13.75m).GetRawText());
        Assert.Equal("\"2026-03-01\"", JobRunner.ToJson(new DateOnly(2026, 3, 1)).GetRawText());
        Assert.Equal(JsonValueKind.Null, JobRunner.ToJson(double.NaN).ValueKind);
        Assert.Equal(JsonValueKind.Null, JobRunner.ToJson(null).ValueKind);
        Assert.Equal("\"toys\"", JobRunner.ToJson("toys").GetRawText());
    }
}
