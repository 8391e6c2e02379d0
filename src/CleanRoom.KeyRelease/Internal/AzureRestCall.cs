using System.Text;
using System.Text.RegularExpressions;
using Azure;
using Azure.Core;
using Azure.Core.Pipeline;

namespace CleanRoom.KeyRelease.Internal;

/// <summary>Sends one JSON POST through an Azure.Core pipeline and maps failures to <see cref="KeyReleaseException"/>.</summary>
internal static partial class AzureRestCall
{
    private const int MaxDetailLength = 200;

    /// <summary>
    /// POSTs <paramref name="body"/> and returns the response and the string property
    /// <paramref name="resultProperty"/> of its JSON body. <paramref name="secret"/> (the
    /// attestation token, if any) is scrubbed from any service message we repeat.
    /// </summary>
    public static async Task<Response<string>> PostAsync(HttpPipeline pipeline, Action<RequestUriBuilder> buildUri, byte[] body,
        string resultProperty, string service, string? secret, CancellationToken cancellationToken)
    {
        using var message = pipeline.CreateMessage();
        var request = message.Request;
        request.Method = RequestMethod.Post;
        buildUri(request.Uri);
        request.Headers.Add(HttpHeader.Common.JsonContentType);
        request.Headers.Add(HttpHeader.Names.Accept, "application/json");
        request.Content = RequestContent.Create(body);

        await pipeline.SendAsync(message, cancellationToken).ConfigureAwait(false);
        var response = message.Response;
        var content = response.Content.ToMemory();

        if (response.Status is < 200 or > 299)
        {
            throw Failure(service, response.Status, content, secret);
        }

        if (!KeyReleaseJson.TryParse(content, out var document))
        {
            throw new KeyReleaseException(service, response.Status, KeyReleaseException.MalformedResponseCode, null, "The response body is not JSON.");
        }

        using (document)
        {
            var value = KeyReleaseJson.GetString(document.RootElement, resultProperty);
            if (string.IsNullOrEmpty(value))
            {
                throw new KeyReleaseException(service, response.Status, KeyReleaseException.MalformedResponseCode, null,
                    $"The response body has no '{resultProperty}' string.");
            }

            return Response.FromValue(value, response);
        }
    }

    private static KeyReleaseException Failure(string service, int status, ReadOnlyMemory<byte> content, string? secret)
    {
        string? code = null, innerCode = null, detail = null;
        if (KeyReleaseJson.TryParse(content, out var document))
        {
            using (document)
            {
                if (document.RootElement.ValueKind == JsonValueKind.Object
                    && document.RootElement.TryGetProperty("error", out var error) && error.ValueKind == JsonValueKind.Object)
                {
                    code = Clean(KeyReleaseJson.GetString(error, "code"), secret);
                    detail = Clean(KeyReleaseJson.GetString(error, "message"), secret);
                    if (error.TryGetProperty("innererror", out var inner))
                    {
                        innerCode = Clean(KeyReleaseJson.GetString(inner, "code"), secret);
                    }
                }
            }
        }

        return new KeyReleaseException(service, status, code, innerCode,
            detail is null ? "The service sent no error details." : "Service message: " + detail);
    }

    /// <summary>One printable line, bounded, without the secret or anything shaped like a JWT.</summary>
    private static string? Clean(string? text, string? secret)
    {
        if (string.IsNullOrEmpty(text))
        {
            return null;
        }

        if (!string.IsNullOrEmpty(secret))
        {
            text = text.Replace(secret, "<redacted>", StringComparison.Ordinal);
        }

        text = JwtLike().Replace(text, "<redacted>");
        var builder = new StringBuilder(Math.Min(text.Length, MaxDetailLength));
        foreach (var c in text)
        {
            if (builder.Length == MaxDetailLength)
            {
                builder.Append('…');
                break;
            }

            builder.Append(char.IsControl(c) ? ' ' : c);
        }

        return builder.ToString();
    }

    [GeneratedRegex(@"eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*(\.[A-Za-z0-9_-]*)?")]
    private static partial Regex JwtLike();
}
