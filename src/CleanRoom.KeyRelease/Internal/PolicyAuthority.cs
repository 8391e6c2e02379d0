namespace CleanRoom.KeyRelease.Internal;

/// <summary>One authority entry: the attestation issuer it trusts and the conditions on its tokens.</summary>
internal sealed class PolicyAuthority(string normalizedAuthority, PolicyCondition condition)
{
    public string NormalizedAuthority { get; } = normalizedAuthority;

    public PolicyCondition Condition { get; } = condition;

    /// <summary>
    /// Canonical form used to compare an authority with a token <c>iss</c>: scheme and host
    /// lower-cased (by <see cref="Uri"/>), default port dropped, path kept case-sensitive with any
    /// trailing slashes removed. As <see cref="Uri"/> parses it, surrounding whitespace is ignored and dot
    /// segments are resolved ("https://a.example/x/.." is "https://a.example"): the
    /// same URL written two ways matches. Query, fragment and user info are refused.
    /// </summary>
    public static string? Normalize(string? value)
    {
        if (string.IsNullOrEmpty(value)
            || !Uri.TryCreate(value, UriKind.Absolute, out var uri)
            || (uri.Scheme != Uri.UriSchemeHttps && uri.Scheme != Uri.UriSchemeHttp)
            || uri.UserInfo.Length != 0 || uri.Query.Length != 0 || uri.Fragment.Length != 0)
        {
            return null;
        }

        var authority = uri.IsDefaultPort ? uri.Host : $"{uri.Host}:{uri.Port}";
        return $"{uri.Scheme}://{authority}{uri.AbsolutePath.TrimEnd('/')}";
    }
}
