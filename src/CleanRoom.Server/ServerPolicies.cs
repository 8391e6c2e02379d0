using CleanRoom.Core;

namespace CleanRoom.Server;

/// <summary>
/// Reads policies from attestation-policies/: "{name}.json" is the attestation policy the local
/// authority evaluates, "release/{name}.json" the key release policy attached to every dataset key
/// of a contract that names it. A policy that cannot be read refuses (the file is re-read each time).
/// </summary>
public sealed class ServerPolicies(ServerOptions options)
{
    public bool HasReleasePolicy(string name) => PartyIdentity.IsValidName(name) && File.Exists(ReleasePath(name));

    public string ReadReleasePolicy(string name) =>
        HasReleasePolicy(name) ? File.ReadAllText(ReleasePath(name)) : throw ApiException.BadRequest("policy.not_found", $"release policy '{name}' is not installed");

    public string ReadAttestationPolicy(string name) =>
        PartyIdentity.IsValidName(name) && File.Exists(Path.Combine(options.PolicyDirectory, name + ".json"))
            ? File.ReadAllText(Path.Combine(options.PolicyDirectory, name + ".json"))
            : throw new InvalidOperationException($"attestation policy '{name}' is not installed in {options.PolicyDirectory}");

    private string ReleasePath(string name) => Path.Combine(options.PolicyDirectory, "release", name + ".json");
}
