using Azure.Core;

namespace CleanRoom.KeyRelease.Tests.Wire;

/// <summary>A credential collaborator that hands out one fixed token and records the scopes asked for.</summary>
internal sealed class FixedTokenCredential : TokenCredential
{
    public const string Token = "fixed-test-access-token";

    public List<string> Scopes { get; } = [];

    public override AccessToken GetToken(TokenRequestContext requestContext, CancellationToken cancellationToken)
    {
        lock (Scopes)
        {
            Scopes.AddRange(requestContext.Scopes);
        }

        return new AccessToken(Token, DateTimeOffset.UtcNow.AddHours(1));
    }

    public override ValueTask<AccessToken> GetTokenAsync(TokenRequestContext requestContext, CancellationToken cancellationToken) =>
        new(GetToken(requestContext, cancellationToken));
}
