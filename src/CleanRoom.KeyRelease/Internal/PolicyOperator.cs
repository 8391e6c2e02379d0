namespace CleanRoom.KeyRelease.Internal;

/// <summary>The claim operators of the SKR release policy grammar.</summary>
internal enum PolicyOperator
{
    EqualTo,
    NotEqualTo,
    Less,
    LessOrEquals,
    Greater,
    GreaterOrEquals,
    Exists,
}
