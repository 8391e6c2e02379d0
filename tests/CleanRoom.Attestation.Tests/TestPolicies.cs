namespace CleanRoom.Attestation.Tests;

/// <summary>The policy files shipped in attestation-policies/, copied to the test output.</summary>
internal static class TestPolicies
{
    public static string SimulatedJson => File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Policies", "simulated.json"));

    public static string ProductionJson => File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Policies", "production-sevsnp.json"));

    public static AttestationPolicy Simulated => AttestationPolicy.Parse(SimulatedJson).Policy!;

    public static AttestationPolicy Production => AttestationPolicy.Parse(ProductionJson).Policy!;

    /// <summary>A policy document with the given property values replaced (JSON fragments).</summary>
    public static string SimulatedWith(params (string Property, string JsonValue)[] changes)
    {
        var node = System.Text.Json.Nodes.JsonNode.Parse(SimulatedJson)!.AsObject();
        foreach ((string property, string value) in changes)
        {
            node[property] = System.Text.Json.Nodes.JsonNode.Parse(value);
        }

        return node.ToJsonString();
    }
}
