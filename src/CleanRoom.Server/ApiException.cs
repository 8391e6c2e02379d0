namespace CleanRoom.Server;

/// <summary>An expected refusal: becomes application/problem+json with a stable code.</summary>
public sealed class ApiException(int status, string code, string message) : Exception(message)
{
    public int Status { get; } = status;

    public string Code { get; } = code;

    public static ApiException BadRequest(string code, string message) => new(400, code, message);

    public static ApiException Unauthorized(string code, string message) => new(401, code, message);

    public static ApiException Forbidden(string code, string message) => new(403, code, message);

    public static ApiException NotFound(string code, string message) => new(404, code, message);

    public static ApiException Conflict(string code, string message) => new(409, code, message);
}
