namespace Sweep.Core.Search;

/// <summary>
/// A sweep spec that cannot be used. The message is one line, <c>"{field}: {reason}"</c>, where
/// <see cref="Field"/> is a JSON path into the spec (<c>search.space.lambda[2]</c>, <c>training.epochs</c>)
/// or <c>spec</c> for problems with the document as a whole.
/// </summary>
public sealed class SpecException : Exception
{
    /// <summary>Creates the exception for <paramref name="field"/>; the message is <c>"{field}: {reason}"</c>.</summary>
    public SpecException(string field, string reason, Exception? inner = null) : base($"{field}: {reason}", inner)
    {
        Field = field;
        Reason = reason;
    }

    /// <summary>The JSON path of the offending value, or <c>spec</c> for the whole document.</summary>
    public string Field { get; }

    /// <summary>What is wrong with it, without the field.</summary>
    public string Reason { get; }
}
