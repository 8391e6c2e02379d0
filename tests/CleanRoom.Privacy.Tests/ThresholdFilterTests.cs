namespace CleanRoom.Privacy.Tests;

public sealed class ThresholdFilterTests
{
    [Fact]
    public void Rows_under_k_in_any_unit_column_are_dropped_and_unit_columns_stripped()
    {
        string[] columns = ["region", "n", "__cr_units_0", "__cr_units_1"];
        object?[][] rows =
        [
            ["a", 5L, 10L, 10L],
            ["b", 5L, 10L, 9L],
            ["c", 5L, null, 10L],
            ["d", 5L, 12L, 11L],
        ];

        var result = ThresholdFilter.Apply(columns, rows, 10);

        Assert.Equal(["region", "n"], result.Columns);
        Assert.Equal(["a", "d"], result.Rows.Select(r => (string)r[0]!));
        Assert.All(result.Rows, r => Assert.Equal(2, r.Length));
        Assert.Equal(2, result.SuppressedGroups);
    }

    [Fact]
    public void A_result_without_unit_columns_is_not_released()
    {
        Assert.Throws<InvalidOperationException>(() => ThresholdFilter.Apply(["n"], [[1L]], 10));
    }
}
