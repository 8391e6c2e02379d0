namespace CleanRoom.Privacy.Tests;

public sealed class ParameterBinderTests
{
    private static ParameterValidationResult Validate(params (string Name, string Value)[] values) =>
        ParameterBinder.Validate(values.ToDictionary(v => v.Name, v => v.Value), TestCatalog.Parameters);

    [Fact]
    public void Values_in_domain_are_typed()
    {
        var result = Validate(("region", "north"), ("min_age", "30"));
        Assert.True(result.IsValid, result.Reason);
        Assert.Equal("north", result.Parameters.Single(p => p.Name == "region").Value);
        Assert.Equal(30L, result.Parameters.Single(p => p.Name == "min_age").Value);
    }

    [Theory]
    [InlineData("x' OR '1'='1", "30", "param.out_of_domain")]
    [InlineData("North", "30", "param.out_of_domain")]
    [InlineData("north", "17", "param.out_of_domain")]
    [InlineData("north", "121", "param.out_of_domain")]
    [InlineData("north", "30 OR 1=1", "param.type")]
    [InlineData("north", "3e1", "param.type")]
    [InlineData("north", "", "param.type")]
    public void Out_of_domain_or_mistyped_values_are_refused(string region, string age, string code)
    {
        var result = Validate(("region", region), ("min_age", age));
        Assert.False(result.IsValid);
        Assert.Equal(code, result.ErrorCode);
        Assert.Empty(result.Parameters);
    }

    [Fact]
    public void Missing_and_unknown_parameters_are_refused()
    {
        Assert.Equal("param.missing", Validate(("region", "north")).ErrorCode);
        Assert.Equal("param.unknown", Validate(("region", "north"), ("min_age", "30"), ("other", "1")).ErrorCode);
    }

    [Fact]
    public void Refusals_do_not_echo_the_value()
    {
        var result = Validate(("region", "secret-value-123"), ("min_age", "30"));
        Assert.DoesNotContain("secret-value-123", result.Reason!, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("DATE", "2024-02-29", true)]
    [InlineData("DATE", "2024-02-30", false)]
    [InlineData("DECIMAL", "1.50", true)]
    [InlineData("DOUBLE", "NaN", false)]
    [InlineData("BOOLEAN", "true", true)]
    [InlineData("BOOLEAN", "1", false)]
    public void Types_parse_with_the_invariant_culture(string type, string value, bool valid)
    {
        QueryParameterSpec spec = type switch
        {
            "DATE" => new("p", type, null, "2000-01-01", "2030-12-31"),
            "DECIMAL" => new("p", type, null, "0", "10"),
            "DOUBLE" => new("p", type, null, "-1e9", "1e9"),
            _ => new("p", type, null, null, null),
        };
        var result = ParameterBinder.Validate(new Dictionary<string, string> { ["p"] = value }, [spec]);
        Assert.Equal(valid, result.IsValid);
    }
}
