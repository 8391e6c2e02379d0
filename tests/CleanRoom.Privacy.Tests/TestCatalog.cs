namespace CleanRoom.Privacy.Tests;

internal static class TestCatalog
{
    public static readonly DatasetSchema Customers = new(
        "customers",
        [new("customer_id", "BIGINT"), new("region", "VARCHAR"), new("age", "BIGINT"), new("signup", "DATE"), new("email", "VARCHAR")],
        "customer_id",
        ["customer_id"]);

    public static readonly DatasetSchema Orders = new(
        "orders",
        [new("order_id", "BIGINT"), new("customer_id", "BIGINT"), new("amount", "DECIMAL(18,2)"), new("category", "VARCHAR")],
        "customer_id",
        ["customer_id"]);

    public static readonly SqlCatalog Catalog = new([Customers, Orders]);

    public static readonly IReadOnlyList<QueryParameterSpec> Parameters =
    [
        new("region", "VARCHAR", ["north", "south"], null, null),
        new("min_age", "BIGINT", null, "18", "120"),
    ];
}
