using Microsoft.Data.Sqlite;

namespace CleanRoom.Server;

/// <summary>One queued write of <see cref="Database.WriteAsync{T}"/>.</summary>
internal interface IWriteItem
{
    bool IsCancelled { get; }

    void Run(SqliteConnection c, SqliteTransaction tx);

    void Succeed();

    void Fail(Exception error);

    void Cancel();
}

/// <summary>A write and the task its caller awaits; completed only after the commit.</summary>
internal sealed class WriteItem<T>(Func<SqliteConnection, SqliteTransaction, T> work, CancellationToken cancellationToken) : IWriteItem
{
    private readonly TaskCompletionSource<T> _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private T _result = default!;

    public Task<T> Task => _completion.Task;

    public bool IsCancelled => cancellationToken.IsCancellationRequested;

    public void Run(SqliteConnection c, SqliteTransaction tx) => _result = work(c, tx);

    public void Succeed() => _completion.TrySetResult(_result);

    public void Fail(Exception error) => _completion.TrySetException(error);

    public void Cancel() => _completion.TrySetCanceled(cancellationToken);
}
