namespace Sweep.Core.Sweeps;

/// <summary>
/// Which plan indexes are done, in space that does not grow with the sweep: every index below <see cref="Prefix"/> is
/// done, and a bitmap covers the window above it. Trials start in plan order and finish roughly in that order, so the
/// window stays about as wide as the number of trials in flight (a few hundred bytes at thousands of slots) whether the
/// sweep has a thousand trials or a million. Not thread-safe.
/// </summary>
public sealed class DoneSet
{
    private byte[] _bits;
    private int _head;     // the byte of _bits that holds index Prefix
    private int _inWindow; // set bits in the window

    public DoneSet() : this(0, []) { }

    /// <summary>A set saved by <see cref="Save"/>.</summary>
    public DoneSet(int prefix, byte[] window)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(prefix);
        ArgumentNullException.ThrowIfNull(window);
        Prefix = prefix;
        _bits = window.Length == 0 ? new byte[64] : [.. window, .. new byte[64]];
        foreach (byte b in window) _inWindow += System.Numerics.BitOperations.PopCount(b);
        Advance();
    }

    /// <summary>Every index below this one is done.</summary>
    public int Prefix { get; private set; }

    /// <summary>How many indexes are done.</summary>
    public int Count => Prefix + _inWindow;

    public bool Contains(int index)
    {
        if (index < Prefix) return index >= 0;
        long bit = index - (long)Prefix;
        long at = _head + bit / 8;
        return at < _bits.Length && (_bits[at] & (1 << (int)(bit % 8))) != 0;
    }

    /// <summary>Marks an index done; true the first time.</summary>
    public bool Add(int index)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        if (index < Prefix) return false;
        int bit = index - Prefix;
        int at = _head + bit / 8;
        if (at >= _bits.Length)
        {
            Compact();
            at = _head + bit / 8;
            if (at >= _bits.Length) Array.Resize(ref _bits, Math.Max(_bits.Length * 2, at + 64));
        }
        byte mask = (byte)(1 << (bit % 8));
        if ((_bits[at] & mask) != 0) return false;
        _bits[at] |= mask;
        _inWindow++;
        Advance();
        return true;
    }

    /// <summary>The prefix and the window's bytes up to its last set bit: what a coordinator persists.</summary>
    public (int Prefix, byte[] Window) Save()
    {
        int end = _bits.Length;
        while (end > _head && _bits[end - 1] == 0) end--;
        return (Prefix, _bits[_head..end]);
    }

    private void Advance()
    {
        while (_head < _bits.Length && _bits[_head] == 0xFF)
        {
            _head++;
            Prefix += 8;
            _inWindow -= 8;
        }
    }

    private void Compact()
    {
        if (_head == 0) return;
        int live = _bits.Length - _head;
        Array.Copy(_bits, _head, _bits, 0, live);
        Array.Clear(_bits, live, _head);
        _head = 0;
    }
}
