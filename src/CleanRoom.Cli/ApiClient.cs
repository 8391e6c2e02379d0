using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json;
using CleanRoom.Core;
using CleanRoom.Core.Api;

namespace CleanRoom.Cli;

/// <summary>Calls the server as one party, signing every request with the party's Ed25519 key.</summary>
internal sealed class ApiClient(Uri server, PartyKeys party) : IDisposable
{
    private readonly HttpClient _http = new() { BaseAddress = server, Timeout = TimeSpan.FromHours(2) };

    public PartyKeys Party => party;

    public Task<T> GetAsync<T>(string path, CancellationToken cancellationToken) =>
        SendJsonAsync<T>(HttpMethod.Get, path, null, cancellationToken);

    public Task<T> PostAsync<T>(string path, object? body, CancellationToken cancellationToken) =>
        SendJsonAsync<T>(HttpMethod.Post, path, body is null ? [] : JsonSerializer.SerializeToUtf8Bytes(body, body.GetType(), CanonicalJson.SerializerOptions), cancellationToken);

    public Task<T> PostRawAsync<T>(string path, byte[] body, CancellationToken cancellationToken) =>
        SendJsonAsync<T>(HttpMethod.Post, path, body, cancellationToken);

    /// <summary>Streams a file as the body; the signed digest is the file's SHA-256, which the server re-checks.</summary>
    public async Task<T> PutFileAsync<T>(string path, string file, string sha256Hex, IReadOnlyDictionary<string, string> headers, IProgress<long>? progress, CancellationToken cancellationToken)
    {
        await using var stream = new ProgressStream(File.OpenRead(file), progress);
        using var request = new HttpRequestMessage(HttpMethod.Put, path) { Content = new StreamContent(stream, 1 << 20) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        request.Content.Headers.ContentLength = new FileInfo(file).Length;
        foreach (var (k, v) in headers)
        {
            request.Headers.Add(k, v);
        }

        Sign(request, sha256Hex);
        using var response = await _http.SendAsync(request, cancellationToken);
        return await ReadAsync<T>(response, cancellationToken);
    }

    public void Dispose() => _http.Dispose();

    private async Task<T> SendJsonAsync<T>(HttpMethod method, string path, byte[]? body, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(method, path);
        if (body is not null)
        {
            request.Content = new ByteArrayContent(body);
            request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        }

        Sign(request, Hashing.Sha256Hex(body ?? []));
        using var response = await _http.SendAsync(request, cancellationToken);
        return await ReadAsync<T>(response, cancellationToken);
    }

    private void Sign(HttpRequestMessage request, string contentSha256Hex)
    {
        var timestamp = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var nonce = Hashing.B64Url(RandomNumberGenerator.GetBytes(18));
        var uri = new Uri(_http.BaseAddress!, request.RequestUri!);
        var signature = RequestSignature.Sign(party.SigningKey, request.Method.Method, uri.PathAndQuery, contentSha256Hex, timestamp, nonce);
        request.Headers.Add(RequestSignature.KeyIdHeader, party.Id);
        request.Headers.Add(RequestSignature.TimestampHeader, timestamp.ToString(System.Globalization.CultureInfo.InvariantCulture));
        request.Headers.Add(RequestSignature.NonceHeader, nonce);
        request.Headers.Add(RequestSignature.ContentSha256Header, contentSha256Hex);
        request.Headers.Add(RequestSignature.SignatureHeader, signature);
    }

    private static async Task<T> ReadAsync<T>(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        if (!response.IsSuccessStatusCode)
        {
            Problem? problem = null;
            try
            {
                problem = await response.Content.ReadFromJsonAsync<Problem>(CanonicalJson.SerializerOptions, cancellationToken);
            }
            catch (Exception ex) when (ex is JsonException or NotSupportedException)
            {
                // not a problem document
            }

            throw new CliException(problem?.Detail ?? $"the server answered HTTP {(int)response.StatusCode}", problem?.Code ?? "server.error");
        }

        return (await response.Content.ReadFromJsonAsync<T>(CanonicalJson.SerializerOptions, cancellationToken))!;
    }

    private sealed class ProgressStream(Stream inner, IProgress<long>? progress) : Stream
    {
        private long _read;

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => inner.Length;

        public override long Position { get => _read; set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count) => Count(inner.Read(buffer, offset, count));

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            Count(await inner.ReadAsync(buffer, cancellationToken));

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                inner.Dispose();
            }

            base.Dispose(disposing);
        }

        private int Count(int n)
        {
            _read += n;
            progress?.Report(_read);
            return n;
        }
    }
}
