namespace CleanRoom.Server;

/// <summary>
/// In-memory state that mirrors rows written in the database's write transactions; the writer
/// tells it, in order, where each write starts, which writes were undone and whether the batch
/// committed, so that nothing a rolled-back write did stays in memory.
/// </summary>
public interface ITransactionParticipant
{
    /// <summary>A write is about to run; remember the current state.</summary>
    void Savepoint();

    /// <summary>The write since the last <see cref="Savepoint"/> threw and was rolled back.</summary>
    void RollbackToSavepoint();

    /// <summary>Every write kept since the last commit is now durable.</summary>
    void Committed();

    /// <summary>The commit failed: every write since the last commit is gone.</summary>
    void RolledBack();
}
