using CleanRoom.Core;

namespace CleanRoom.Core.Tests;

public sealed class PartyKeysTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("cr-keys-").FullName;

    [Fact]
    public void Saved_keys_load_back_with_the_same_identity_and_private_file_mode()
    {
        using var keys = PartyKeys.Create("alice");
        keys.Save(_dir);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(_dir, "alice.keys.json")));
        using var loaded = PartyKeys.Load(_dir, "alice");
        Assert.Equal(keys.Identity, loaded.Identity);
    }

    [Fact]
    public void A_key_file_readable_by_others_is_refused()
    {
        using var keys = PartyKeys.Create("bob");
        keys.Save(_dir);
        File.SetUnixFileMode(Path.Combine(_dir, "bob.keys.json"), UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.OtherRead);
        Assert.Throws<UnauthorizedAccessException>(() => PartyKeys.Load(_dir, "bob"));
    }

    [Theory]
    [InlineData("Alice")]
    [InlineData("../x")]
    [InlineData("")]
    [InlineData("1abc")]
    public void Invalid_party_names_are_refused(string name) => Assert.Throws<ArgumentException>(() => PartyKeys.Create(name));

    public void Dispose() => Directory.Delete(_dir, recursive: true);
}
