using System.Security.Cryptography;
using System.Text;

namespace CleanRoom.KeyRelease.Tests;

/// <summary>Signs arbitrary header/payload text (RS256), to build inputs <see cref="KeyReleaseResponse.Sign"/> never would.</summary>
internal sealed class JwsTestSigner(RSA key)
{
    public string Sign(string header, string payload)
    {
        var input = TestKeys.B64(Encoding.UTF8.GetBytes(header)) + "." + TestKeys.B64(Encoding.UTF8.GetBytes(payload));
        return input + "." + TestKeys.B64(key.SignData(Encoding.ASCII.GetBytes(input), HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1));
    }
}
