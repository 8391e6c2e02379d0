namespace CleanRoom.KeyRelease.Internal;

/// <summary>Endpoint checks shared by the Azure clients: bearer tokens only ever travel over TLS.</summary>
internal static class EndpointGuard
{
    public static Uri RequireHttps(Uri? endpoint, string parameterName)
    {
        ArgumentNullException.ThrowIfNull(endpoint, parameterName);
        if (!endpoint.IsAbsoluteUri || endpoint.Scheme != Uri.UriSchemeHttps || endpoint.Query.Length != 0 || endpoint.Fragment.Length != 0)
        {
            throw new ArgumentException("The endpoint must be an absolute https URI without query or fragment.", parameterName);
        }

        return endpoint;
    }

    /// <summary>The endpoint's path without a trailing slash ("" for a bare host).</summary>
    public static string BasePath(Uri endpoint) => endpoint.AbsolutePath.TrimEnd('/');
}
