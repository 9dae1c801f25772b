using Sweep.Core.Models;

namespace Sweep.Grains;

/// <summary>A trial grain's durable state: its result once it has one, how often it was started, every attempt's failure.</summary>
[GenerateSerializer, Alias("Sweep.TrialGrainState")]
public sealed class TrialGrainState
{
    [Id(0)] public TrialResult? Result { get; set; }
    [Id(1)] public int Attempts { get; set; }
    [Id(2)] public List<string> AttemptErrors { get; set; } = [];
}
