namespace CleanRoom.Cli;

/// <summary>An expected failure: printed as one line, exit code 1.</summary>
internal sealed class CliException(string message, string code = "cli.error") : Exception(message)
{
    public string Code { get; } = code;
}
