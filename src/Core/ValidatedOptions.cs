namespace Sweep.Core;

/// <summary>
/// An options class that checks itself: <see cref="Validate"/> returns null when every setting is usable, else the
/// first problem as one line naming the setting (e.g. "Sweep:FusionWidth must be in [1, 256], got 0"). Hosts run it
/// at start-up (an IValidateOptions adapter with ValidateOnStart) and command lines before a host exists.
/// </summary>
public interface IValidatedOptions
{
    string? Validate();
}
