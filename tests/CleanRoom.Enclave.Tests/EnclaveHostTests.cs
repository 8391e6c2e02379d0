using CleanRoom.Enclave;

namespace CleanRoom.Enclave.Tests;

public sealed class EnclaveHostTests
{
    [Theory]
    [InlineData(1, 1)]
    [InlineData(2, 2)]
    [InlineData(3, 4)]
    [InlineData(5, 16)]
    [InlineData(6, 30)]
    [InlineData(1000, 30)]
    public void Consecutive_failures_back_off_exponentially_up_to_thirty_seconds(int failures, int seconds) =>
        Assert.Equal(TimeSpan.FromSeconds(seconds), EnclaveHost.BackOffDelay(failures));
}
