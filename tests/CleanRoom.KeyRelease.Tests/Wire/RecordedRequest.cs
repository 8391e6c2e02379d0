namespace CleanRoom.KeyRelease.Tests.Wire;

/// <summary>What the loopback server saw.</summary>
internal sealed record RecordedRequest(string Method, string Path, string Query, string? Authorization, string? ContentType, string Body)
{
    public string? ApiVersion => System.Web.HttpUtility.ParseQueryString(Query).Get("api-version");
}
