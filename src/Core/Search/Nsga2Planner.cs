using Sweep.Core.Models;
using Sweep.Core.Pareto;

namespace Sweep.Core.Search;

/// <summary>
/// The plan of an <c>nsga2</c> sweep, proposed a generation at a time (algorithm.md, "NSGA-II"). Configuration c belongs
/// to generation c / population and is run once per seed of the spec: its trials are plan indexes c·S … c·S + S − 1
/// (S seeds), so a trial's generation follows from its index. Generations 0 and 1 are the first 2·population draws of
/// <c>random</c> with the same seed. Generation g ≥ 2 is proposed once every trial of generations 0 … g − 2 is done; its
/// parents come from those trials' completed configurations (an elitist archive: non-dominated sorting and crowding
/// distance pick the best population, binary tournaments pick parents), so two generations run at once and the cluster
/// stays full. What it proposes depends only on the spec and on the results of finished trials, never on timing: a
/// coordinator that moves or a cluster that restarts proposes the same trials again from the stored results, and its
/// own state stays what the book already keeps. Not thread-safe.
/// </summary>
public sealed class Nsga2Planner
{
    /// <summary>Crossover probability, and the distribution indexes of SBX crossover and polynomial mutation (Deb's NSGA-II).</summary>
    public const double CrossoverProbability = 0.9, CrossoverEta = 15, MutationEta = 20;
    private const int Retries = 20, RandomDraws = 1000;

    private readonly SweepSpec _spec;
    private readonly Dimension[] _dims;
    private readonly int[] _ranges;   // the genes of range dimensions (not lists)
    private readonly int _population, _seeds, _configurations;
    private readonly List<TrialPlan> _plans = [];
    private readonly List<TrialParameters> _configs = [];
    private readonly HashSet<TrialParameters> _seen = [];
    private readonly Dictionary<string, int> _index = new(StringComparer.Ordinal);
    // Per plan index: the two objective values of a completed trial (NaN until then), and whether it was cancelled.
    private readonly List<(double First, double Second)> _measures = [];
    private readonly List<bool> _cancelled = [];
    private readonly Objective _first, _second;
    private int _doneUpTo;

    /// <summary>The planner of an nsga2 spec with its first two generations proposed.</summary>
    public Nsga2Planner(SweepSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        if (spec.Search.Strategy != SearchStrategy.Nsga2) throw new ArgumentException("not an nsga2 sweep", nameof(spec));
        _spec = spec;
        _dims = [.. spec.Search.Space];
        _ranges = [.. Enumerable.Range(0, _dims.Length).Where(k => _dims[k].Kind != DimensionKind.Choice)];
        _population = spec.Search.Population;
        _seeds = spec.Seeds.Count;
        _configurations = spec.Search.Trials;
        _first = Vocabularies.Objectives.Parse(spec.Objectives[0]);
        _second = Vocabularies.Objectives.Parse(spec.Objectives[1]);
        foreach (var p in SearchSpace.RandomConfigurations(spec, Math.Min(2 * _population, _configurations), p => p.Normalized()))
            Add(p);
        Target = _configurations * _seeds;
    }

    /// <summary>Every trial proposed so far, in plan order.</summary>
    public IReadOnlyList<TrialPlan> Plans => _plans;

    /// <summary>How many trials the sweep will have: trials × seeds, or the trials proposed once it can propose no more.</summary>
    public int Target { get; private set; }

    /// <summary>Generations proposed so far.</summary>
    public int Generations => (_configs.Count + _population - 1) / _population;

    /// <summary>The generation that proposed the trial at this plan index.</summary>
    public int GenerationOf(int planIndex) => planIndex / _seeds / _population;

    /// <summary>Why no more generations will be proposed, once that is so (null while more may come).</summary>
    public string? Stopped { get; private set; }

    /// <summary>
    /// Every trial that the stored results lead to: the first two generations, then each generation whose parents are
    /// all in <paramref name="stored"/> (by trial id), exactly as the sweep proposed them while it ran.
    /// </summary>
    public static Nsga2Planner Replay(SweepSpec spec, IReadOnlyDictionary<string, TrialResult> stored)
    {
        ArgumentNullException.ThrowIfNull(stored);
        var planner = new Nsga2Planner(spec);
        int seen = 0;
        do
        {
            for (; seen < planner._plans.Count; seen++)
                if (stored.TryGetValue(planner._plans[seen].TrialId, out var r)) planner.Observe(seen, r);
            // One generation at a time: the next one's parents may include the trials just proposed, observed first.
        } while (planner.Propose(i => stored.ContainsKey(planner._plans[i].TrialId), generations: 1).Count > 0);
        return planner;
    }

    /// <summary>Takes a finished trial's result (by plan index) into the archive; the first result of an index counts.</summary>
    public void Observe(int planIndex, TrialResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        if (!double.IsNaN(_measures[planIndex].First) || _cancelled[planIndex]) return;
        if (result.Status == TrialStatus.Cancelled) _cancelled[planIndex] = true;
        else if (result.Status == TrialStatus.Completed
                 && Objectives.Of(result, _first) is { } a && Objectives.Of(result, _second) is { } b)
            _measures[planIndex] = (a, b);
    }

    /// <summary>The plan index of a proposed trial, or −1.</summary>
    public int IndexOf(string trialId) => _index.GetValueOrDefault(trialId, -1);

    /// <summary>
    /// The next generations whose parents are all done (<paramref name="isDone"/> by plan index), appended to
    /// <see cref="Plans"/> and returned (none when the next one must wait). A cancelled trial among the parents (the sweep
    /// was cancelled or its budget spent) or a space with no configuration left ends the proposals.
    /// </summary>
    public IReadOnlyList<TrialPlan> Propose(Func<int, bool> isDone) => Propose(isDone, int.MaxValue);

    private IReadOnlyList<TrialPlan> Propose(Func<int, bool> isDone, int generations)
    {
        ArgumentNullException.ThrowIfNull(isDone);
        int before = _plans.Count;
        for (int proposed = 0; Stopped is null && proposed < generations; proposed++)
        {
            if (_configs.Count >= _configurations) { Stop("every trial proposed"); break; }
            int g = _configs.Count / _population;
            int parents = (g - 1) * _population * _seeds;   // plan indexes of generations 0 … g − 2
            // Done is for good: indexes below _doneUpTo were seen done by an earlier call.
            while (_doneUpTo < parents && isDone(_doneUpTo)) _doneUpTo++;
            if (_doneUpTo < parents) break;
            if (_cancelled.Take(parents).Any(c => c)) { Stop("cancelled"); break; }
            int count = Math.Min(_population, _configurations - _configs.Count);
            var children = Offspring(g, parents, count);
            foreach (var child in children) Add(child);
            if (children.Count < count) Stop("the space has no configuration left that was not proposed");
        }
        return _plans.Count == before ? [] : _plans.GetRange(before, _plans.Count - before);
    }

    private void Stop(string why)
    {
        Stopped = why;
        Target = _plans.Count;
    }

    private void Add(TrialParameters configuration)
    {
        _configs.Add(configuration);
        _seen.Add(configuration);
        foreach (long seed in _spec.Seeds)
        {
            var p = configuration with { Seed = seed };
            string id = TrialIds.For(p);
            if (!_index.TryAdd(id, _plans.Count))
                throw new InvalidOperationException($"trial id {id} is shared by two configurations");
            _plans.Add(new TrialPlan(id, p));
            _measures.Add((double.NaN, double.NaN));
            _cancelled.Add(false);
        }
    }


    // ---- one generation -------------------------------------------------------------------------------------------

    private sealed class Member(int configuration, double first, double second)
    {
        public int Configuration { get; } = configuration;
        public double First { get; } = first;
        public double Second { get; } = second;
        public int Rank { get; set; }
        public double Crowding { get; set; }
    }

    private List<TrialParameters> Offspring(int generation, int parentIndexes, int count)
    {
        var rng = new SplitMix64(unchecked((ulong)_spec.Search.Seed * 0x9E3779B97F4A7C15UL + (ulong)generation));
        var survivors = Survivors(parentIndexes / _seeds);
        var children = new List<TrialParameters>(count);
        var fresh = new HashSet<TrialParameters>();
        while (children.Count < count)
        {
            TrialParameters? child = null;
            if (survivors.Count >= 2)
            {
                var a = Tournament(survivors, ref rng);
                var b = Tournament(survivors, ref rng);
                // Two different parents (a child of one parent with itself is that parent, proposed already).
                for (int again = 0; again < 4 && b == a; again++) b = Tournament(survivors, ref rng);
                var genes = Crossover(Genes(_configs[a.Configuration]), Genes(_configs[b.Configuration]), ref rng);
                for (int attempt = 0; attempt < Retries && child is null; attempt++)
                {
                    var mutated = Mutate(genes, ref rng, force: attempt > 0);
                    var p = Build(mutated).Normalized();
                    if (!_seen.Contains(p) && !fresh.Contains(p)) child = p;
                }
            }
            // Too few parents, or every child of these parents was proposed before: a uniform draw, as random search does.
            for (int draw = 0; draw < RandomDraws && child is null; draw++)
            {
                var p = _spec.Base;
                foreach (var d in _dims) p = SearchSpace.Draw(p, d, ref rng);
                p = p.Normalized();
                if (!_seen.Contains(p) && !fresh.Contains(p)) child = p;
            }
            if (child is null) break;
            fresh.Add(child);
            children.Add(child);
        }
        return children;
    }

    /// <summary>
    /// The best <c>population</c> configurations among the first <paramref name="configurations"/> with a completed trial
    /// (objectives averaged over their completed seeds): whole non-dominated fronts in order, the last one cut by crowding
    /// distance, ties by configuration order. Each survivor keeps its front's rank and its crowding distance.
    /// </summary>
    private List<Member> Survivors(int configurations)
    {
        var pool = new List<Member>();
        for (int c = 0; c < configurations; c++)
        {
            double a = 0, b = 0;
            int n = 0;
            for (int s = 0; s < _seeds; s++)
            {
                var m = _measures[c * _seeds + s];
                if (double.IsNaN(m.First) || double.IsNaN(m.Second)) continue;
                a += m.First; b += m.Second; n++;
            }
            if (n > 0) pool.Add(new Member(c, a / n, b / n));
        }
        var (front, crowding) = ParetoRanking.Rank([.. pool.Select(m => (m.First, m.Second))]);
        for (int i = 0; i < pool.Count; i++)
        {
            pool[i].Rank = front[i];
            pool[i].Crowding = crowding[i];
        }
        return [.. pool.OrderBy(m => m.Rank).ThenByDescending(m => m.Crowding).ThenBy(m => m.Configuration).Take(_population)];
    }

    private static Member Tournament(List<Member> survivors, ref SplitMix64 rng)
    {
        var a = survivors[(int)(rng.Next() % (ulong)survivors.Count)];
        var b = survivors[(int)(rng.Next() % (ulong)survivors.Count)];
        if (a.Rank != b.Rank) return a.Rank < b.Rank ? a : b;
        if (a.Crowding != b.Crowding) return a.Crowding > b.Crowding ? a : b;
        return a.Configuration <= b.Configuration ? a : b;
    }

    // ---- genes: one number per dimension, a choice's index or a range's position in [0, 1] (log scale for logUniform) --

    private double[] Genes(TrialParameters p)
    {
        var genes = new double[_dims.Length];
        for (int k = 0; k < _dims.Length; k++)
        {
            var d = _dims[k];
            var parameter = TrialParameterTable.Find(d.Parameter)!;
            object value = parameter.Value(p);
            genes[k] = d.Kind switch
            {
                DimensionKind.Choice when parameter.Kind == ParameterKind.Text => IndexOf(d.Texts, (string)value),
                DimensionKind.Choice => IndexOf(d.Numbers, Convert.ToDouble(value, System.Globalization.CultureInfo.InvariantCulture)),
                DimensionKind.LogUniform => Position(Math.Log(Number(value)), Math.Log(d.Low), Math.Log(d.High)),
                DimensionKind.Int => Position(Number(value), Math.Ceiling(d.Low), Math.Floor(d.High)),
                _ => Position(Number(value), d.Low, d.High),
            };
        }
        return genes;
    }

    private TrialParameters Build(double[] genes)
    {
        var p = _spec.Base;
        for (int k = 0; k < _dims.Length; k++)
        {
            var d = _dims[k];
            var parameter = TrialParameterTable.Find(d.Parameter)!;
            double g = genes[k];
            p = d.Kind switch
            {
                DimensionKind.Choice when parameter.Kind == ParameterKind.Text => parameter.With(p, d.Texts[(int)g]),
                DimensionKind.Choice => parameter.With(p, d.Numbers[(int)g]),
                DimensionKind.LogUniform => parameter.With(p,
                    Math.Clamp(Math.Exp(Math.Log(d.Low) + g * (Math.Log(d.High) - Math.Log(d.Low))), d.Low, d.High)),
                DimensionKind.Int => parameter.With(p, Math.Round(Math.Ceiling(d.Low) + g * (Math.Floor(d.High) - Math.Ceiling(d.Low)))),
                _ => parameter.With(p, Math.Clamp(d.Low + g * (d.High - d.Low), d.Low, d.High)),
            };
        }
        return p;
    }

    /// <summary>With probability 0.9: SBX on each range gene (half of them), a fair coin on each choice; else parent a.</summary>
    private double[] Crossover(double[] a, double[] b, ref SplitMix64 rng)
    {
        var child = (double[])a.Clone();
        if (rng.NextUnit() >= CrossoverProbability) return child;
        for (int k = 0; k < child.Length; k++)
        {
            if (_dims[k].Kind == DimensionKind.Choice)
            {
                if (rng.NextUnit() < 0.5) child[k] = b[k];
                continue;
            }
            if (rng.NextUnit() >= 0.5 || a[k] == b[k]) continue;
            double u = rng.NextUnit();
            double beta = u <= 0.5 ? Math.Pow(2 * u, 1 / (CrossoverEta + 1)) : Math.Pow(1 / (2 * (1 - u)), 1 / (CrossoverEta + 1));
            double c = 0.5 * ((1 + beta) * a[k] + (1 - beta) * b[k]);
            child[k] = Math.Clamp(c, 0, 1);
        }
        return child;
    }

    /// <summary>
    /// Each gene with probability 1/dimensions (when <paramref name="force"/>, a chosen gene at least: a range gene when the
    /// space has one): a choice moves to another value uniformly, a range gene by polynomial mutation.
    /// </summary>
    private double[] Mutate(double[] genes, ref SplitMix64 rng, bool force)
    {
        var m = (double[])genes.Clone();
        // A repeat is moved by a range gene when there is one (a small step, near its parents), else by a list gene.
        int forced = !force ? -1
            : _ranges.Length > 0 ? _ranges[(int)(rng.Next() % (ulong)_ranges.Length)]
            : (int)(rng.Next() % (ulong)m.Length);
        for (int k = 0; k < m.Length; k++)
        {
            if (k != forced && rng.NextUnit() >= 1.0 / m.Length) continue;
            var d = _dims[k];
            if (d.Kind == DimensionKind.Choice)
            {
                int count = Math.Max(d.Texts.Count, d.Numbers.Count);
                if (count > 1) m[k] = (m[k] + 1 + rng.Next() % (ulong)(count - 1)) % count;
                continue;
            }
            double u = rng.NextUnit();
            double delta = u < 0.5 ? Math.Pow(2 * u, 1 / (MutationEta + 1)) - 1 : 1 - Math.Pow(2 * (1 - u), 1 / (MutationEta + 1));
            m[k] = Math.Clamp(m[k] + delta, 0, 1);
        }
        return m;
    }


    private static double Number(object value) => Convert.ToDouble(value, System.Globalization.CultureInfo.InvariantCulture);

    private static double Position(double v, double low, double high) => high > low ? Math.Clamp((v - low) / (high - low), 0, 1) : 0;

    private static int IndexOf<T>(IReadOnlyList<T> list, T value)
    {
        for (int i = 0; i < list.Count; i++) if (EqualityComparer<T>.Default.Equals(list[i], value)) return i;
        return 0;
    }
}
