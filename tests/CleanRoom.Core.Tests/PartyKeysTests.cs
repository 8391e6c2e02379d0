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

    [Fact]
    public void Save_refuses_to_overwrite_an_existing_key_file()
    {
        var path = Path.Combine(_dir, "carol.keys.json");
        File.WriteAllText(path, "someone else's file");
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
        using var keys = PartyKeys.Create("carol");
        var ex = Assert.Throws<IOException>(() => keys.Save(_dir));
        Assert.Contains("already exists", ex.Message);
        Assert.Equal("someone else's file", File.ReadAllText(path));
        Assert.False(File.Exists(Path.Combine(_dir, "carol.identity.json")));
    }

    [Fact]
    public void Save_does_not_follow_a_symlink_at_the_key_path()
    {
        var existing = Path.Combine(_dir, "existing-target");
        File.WriteAllText(existing, "x");
        File.CreateSymbolicLink(Path.Combine(_dir, "dave.keys.json"), existing);
        var dangling = Path.Combine(_dir, "dangling-target");
        File.CreateSymbolicLink(Path.Combine(_dir, "erin.keys.json"), dangling);

        using var dave = PartyKeys.Create("dave");
        Assert.Throws<IOException>(() => dave.Save(_dir));
        Assert.Equal("x", File.ReadAllText(existing));
        using var erin = PartyKeys.Create("erin");
        Assert.Throws<IOException>(() => erin.Save(_dir));
        Assert.False(File.Exists(dangling));
    }

    [Fact]
    public void A_key_file_that_holds_another_partys_keys_is_refused()
    {
        using var bob = PartyKeys.Create("bob");
        bob.Save(_dir);
        File.Copy(Path.Combine(_dir, "bob.keys.json"), Path.Combine(_dir, "alice.keys.json"));
        var ex = Assert.Throws<InvalidDataException>(() => PartyKeys.Load(_dir, "alice"));
        Assert.Contains("'bob', not 'alice'", ex.Message);
    }

    [Theory]
    [InlineData("")]
    [InlineData("{\"name\":\"alice\",\"signingPriv")]
    [InlineData("[1]")]
    [InlineData("{\"name\":\"alice\"}")]
    [InlineData("{\"name\":\"alice\",\"signingPrivateKey\":\"ixMHhDdVcvr8nFHlxNtikscVYKikjAQl1W2Mc9A4Hz\",\"encryptionPrivateKey\":\"c3qK3pBey__wK6DwYI8rKidFrMuJzdBKo1QQXtQByz0\"}")]
    [InlineData("{\"name\":\"alice\",\"signingPrivateKey\":\"ixMHhDdVcvr8nFHlxNtikscVYKikjAQl1W2Mc9A4Hzc\",\"encryptionPrivateKey\":\"c3qK3pBey*_wK6DwYI8rKidFrMuJzdBKo1QQXtQByz0\"}")]
    [InlineData("{\"name\":\"alice\",\"signingPrivateKey\":\"ixMHhDdVcvr8nFHlxNtikscVYKikjAQl1W2Mc9A4HzcAAAA\",\"encryptionPrivateKey\":\"c3qK3pBey__wK6DwYI8rKidFrMuJzdBKo1QQXtQByz0\"}")]
    public void A_corrupted_or_truncated_key_file_is_refused_without_echoing_its_contents(string content)
    {
        var path = Path.Combine(_dir, "alice.keys.json");
        File.WriteAllText(path, content);
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        var ex = Assert.Throws<InvalidDataException>(() => PartyKeys.Load(_dir, "alice"));
        Assert.StartsWith($"refusing key file {path}:", ex.Message);
        Assert.DoesNotContain("ixMHhDdVcvr8", ex.Message);
        Assert.DoesNotContain("c3qK3pBey", ex.Message);
        Assert.DoesNotContain('\n', ex.Message);
    }

    [Theory]
    [InlineData("Alice")]
    [InlineData("../x")]
    [InlineData("")]
    [InlineData("1abc")]
    public void Invalid_party_names_are_refused(string name) => Assert.Throws<ArgumentException>(() => PartyKeys.Create(name));

    public void Dispose() => Directory.Delete(_dir, recursive: true);
}
