namespace CleanRoom.Privacy.Tests;

public sealed class PrivacyCostTests
{
    [Fact]
    public void Costs_compose_exactly_in_decimal()
    {
        var total = PrivacyCost.Compose([new(0.1m, 1e-6m), new(0.2m, 2e-6m)]);
        Assert.Equal(0.3m, total.Epsilon);
        Assert.Equal(3e-6m, total.Delta);
    }

    [Fact]
    public void Remaining_budget_is_null_once_exceeded()
    {
        var budget = new PrivacyCost(1m, 1e-5m);
        Assert.Equal(new PrivacyCost(0.25m, 0m), PrivacyCost.Remaining(budget, new PrivacyCost(0.75m, 1e-5m)));
        Assert.Null(PrivacyCost.Remaining(budget, new PrivacyCost(1.0000001m, 0m)));
        Assert.Null(PrivacyCost.Remaining(budget, new PrivacyCost(0.5m, 2e-5m)));
    }

    [Fact]
    public void Invalid_costs_are_rejected()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new PrivacyCost(-1m, 0m));
        Assert.Throws<ArgumentOutOfRangeException>(() => new PrivacyCost(1m, 1m));
    }
}
