using System.Net;
using System.Net.Sockets;
using CleanRoom.Enclave;

namespace CleanRoom.Enclave.Tests;

public sealed class EnclaveServerClientTests
{
    [Fact]
    public async Task A_result_is_never_submitted_to_an_unreachable_server_and_the_retries_end_with_the_job()
    {
        // A loopback port nothing listens on: every connection is refused.
        int port;
        using (var probe = new TcpListener(IPAddress.Loopback, 0))
        {
            probe.Start();
            port = ((IPEndPoint)probe.LocalEndpoint).Port;
        }

        using var client = new EnclaveServerClient(new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}/") }) { Token = "token" };
        using var job = new CancellationTokenSource();
        var submit = client.SubmitResultAsync("job-1", "a.b.c", job.Token);

        // Still retrying (not failed, not done) while the job lives; it ends only when the job's token does.
        Assert.False(submit.IsCompleted);
        await job.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => submit.WaitAsync(TimeSpan.FromMinutes(1)));
    }
}
