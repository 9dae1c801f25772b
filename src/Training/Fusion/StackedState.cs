using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Sweep.Training.Regularization;
using TorchSharp;
using static TorchSharp.torch;

namespace Sweep.Training.Fusion;

/// <summary>
/// The K stacked mlp trials' parameters, gradients, momentum buffers and masks, with a hand-written forward/backward
/// (no autograd graph) and one fused optimizer pass per tensor: on the CPU, a single sweep over each weight adds the
/// regularizer's gradient, accumulates its penalty, applies SGD with momentum and the mask. Buffers are allocated
/// once, so a step allocates only the small activations.
/// </summary>
internal sealed class StackedState : IDisposable
{
    private readonly Tensor[] _w, _b, _mask, _maskBytes, _gw, _gb, _vw, _vb;
    private readonly int _k;
    private readonly long[] _units;
    private readonly double[] _l1, _l2;
    private readonly Tensor _l1Column, _l2Column;
    private readonly float _lr, _mu;
    private readonly bool _cpu;

    private readonly SparseTraining _sparse;
    // Per trial: its first layer's alive structure once it trains sparsely (null: dense).
    private readonly AliveLayer?[] _alive1;
    // Per trial: its second layer's alive structure once it trains sparsely (null: dense, libtorch's products).
    private readonly AliveLayer?[] _alive2;
    private InputBlock? _block, _evalBlock;

    public StackedState(Tensor[] weights, Tensor[] biases, Tensor[] masks, IReadOnlyList<FusedTrial> trials, Device device,
        bool forceTensorOps = false, SparseTraining? sparse = null)
    {
        _cpu = device.type == DeviceType.CPU && !forceTensorOps && Avx2.IsSupported && Fma.IsSupported;
        _sparse = _cpu ? sparse ?? SparseTraining.Auto : SparseTraining.Off;
        _sparseFrom = new long[trials.Count, 2];
        for (int t = 0; t < trials.Count; t++) _sparseFrom[t, 0] = _sparseFrom[t, 1] = -1;
        _alive1 = new AliveLayer?[trials.Count];
        _alive2 = new AliveLayer?[trials.Count];
        // Optimizer state only when there are steps to take (0-epoch trials only evaluate); the CPU path never stores
        // the first layer's weight gradient (the sparse kernel applies it row by row).
        bool training = trials[0].Settings.Params.Epochs > 0;
        Tensor Buffer(Tensor like, bool needed) => needed ? torch.zeros_like(like) : torch.empty(0, device: device);
        _w = weights; _b = biases; _mask = masks;
        // The CPU kernels read masks as bytes (a fifth of the float traffic); MaskChanged keeps them in step.
        _maskBytes = masks.Select(m => m.to_type(ScalarType.Byte)).ToArray();
        _k = trials.Count;
        // Units per layer: the first layer is stored input-major [K, inputs, units], the others [K, units, inputs].
        _units = weights.Select((w, i) => i == 0 ? w.shape[2] : w.shape[1]).ToArray();
        _gw = weights.Select((w, i) => Buffer(w, training && !(i == 0 && _cpu))).ToArray();
        _gb = biases.Select(b => Buffer(b, training)).ToArray();
        _vw = weights.Select(w => Buffer(w, training)).ToArray();
        _vb = biases.Select(b => Buffer(b, training)).ToArray();
        _l1 = trials.Select(t => Regularizer.HasL1(t.Settings.Params.RegularizerKind) ? t.Settings.Params.Lambda : 0).ToArray();
        _l2 = trials.Select(t => Regularizer.HasL2(t.Settings.Params.RegularizerKind) ? t.Settings.Params.Lambda : 0).ToArray();
        _l1Column = torch.tensor(_l1.Select(x => (float)x).ToArray(), device: device).view(-1, 1, 1);
        _l2Column = torch.tensor(_l2.Select(x => (float)x).ToArray(), device: device).view(-1, 1, 1);
        _lr = (float)trials[0].Settings.Params.LearningRate;
        _mu = (float)trials[0].Settings.Params.Momentum;
        _batch = trials[0].Settings.Params.BatchSize;
        _fc2T = Enumerable.Range(0, _k).Select(t => _w[1][t].t()).ToArray();
        _fc2W = Enumerable.Range(0, _k).Select(t => _w[1][t]).ToArray();
        _fc2G = training ? Enumerable.Range(0, _k).Select(t => _gw[1][t]).ToArray() : [];
        if (_cpu && training) _views = new BatchViews(this, _batch);
        if (training && _sparse.FromStart)
            for (int t = 0; t < _k; t++) Restructure(t, 0, force: true);
    }

    private readonly long[,] _sparseFrom;

    /// <summary>
    /// The step after which each of trial t's two hidden-side layers (fc1, fc2) has trained from its alive structure
    /// (0: from the start), −1 where it never has.
    /// </summary>
    public long[] SparseFrom(int t) => [_sparseFrom[t, 0], _sparseFrom[t, 1]];

    /// <summary>
    /// Trial t's alive structures written back into the dense tensors (weights and momentum): before anything reads or
    /// prunes them (a pruning event, the per-epoch measurement, saving).
    /// </summary>
    public void WriteBack(int t)
    {
        WriteBack(t, 0, _alive1[t]);
        WriteBack(t, 1, _alive2[t]);
    }

    private unsafe void WriteBack(int t, int layer, AliveLayer? structure)
    {
        long per = _w[layer].numel() / _k;
        structure?.WriteBack(Pointer(_w[layer]) + t * per, Pointer(_vw[layer]) + t * per);
    }

    /// <summary>
    /// After trial t's pruning event at <paramref name="step"/> (its dense tensors current, see <see cref="WriteBack"/>):
    /// each of its first two layers enters or rebuilds its alive structure when few enough of its weights are left alive.
    /// </summary>
    public void Restructure(int t, long step) => Restructure(t, step, force: false);

    private void Restructure(int t, long step, bool force)
    {
        if (_vw[0].numel() == 0) return;
        Restructure(t, step, 0, ref _alive1[t], _sparse.FirstBelow, force);
        Restructure(t, step, 1, ref _alive2[t], _sparse.SecondBelow, force);
    }

    private unsafe void Restructure(int t, long step, int layer, ref AliveLayer? structure, double below, bool force)
    {
        long per = _w[layer].numel() / _k;
        byte* mask = BytePointer(_maskBytes[layer]) + t * per;
        if (below <= 0) return;
        if (structure is null && !force)
        {
            long alive = 0;
            for (long i = 0; i < per; i++) alive += mask[i] != 0 ? 1 : 0;
            if (alive >= below * per) return;
        }
        if (structure is null) _sparseFrom[t, layer] = step;
        // The first layer is stored input-major ([inputs, units]), the second unit-major ([units, inputs]).
        structure ??= layer == 0
            ? new AliveLayer((int)_w[0].shape[1], (int)_units[0], inputMajor: true)
            : new AliveLayer((int)_w[1].shape[2], (int)_units[1], inputMajor: false);
        structure.Build(Pointer(_w[layer]) + t * per, Pointer(_vw[layer]) + t * per, mask);
    }

    /// <summary>True when steps take sparse batches (<see cref="Step(SparseBatch, long[], long, double[])"/>): the CPU path.</summary>
    public bool UsesSparseInputs => _cpu;

    /// <summary>
    /// One optimizer step of every trial on one shared batch given by its nonzero inputs (the CPU path): forward,
    /// backward, regularizer, SGD with momentum, masks. Adds each trial's loss (mean cross-entropy + penalty) to
    /// <paramref name="losses"/>. The first layer runs in <see cref="SparseKernels"/> (product over nonzero pixels; its
    /// weight gradient is formed row by row and applied at once, never stored), the second layer's three products in
    /// libtorch, the rest in <see cref="DenseKernels"/>; trial by trial, in preallocated buffers.
    /// </summary>
    public unsafe void Step(SparseBatch x, long[] labels, long labelOffset, double[] losses)
    {
        int batch = x.Count;
        int k = _k;
        int h1 = (int)_units[0], h2 = (int)_units[1], outputs = (int)_units[2];
        using var _ = torch.no_grad();
        var views = batch == _batch ? _views!
            : (_partial is { } p && p.Batch == batch ? p : (_partial = Replace(_partial, new BatchViews(this, batch))));
        float* a1 = Pointer(views.A1All), a2 = Pointer(views.A2All), d1 = Pointer(views.D1All), d2 = Pointer(views.D2All);
        float* w1 = Pointer(_w[0]), b1 = Pointer(_b[0]), b2 = Pointer(_b[1]), w3 = Pointer(_w[2]), b3 = Pointer(_b[2]);
        float* gb1 = Pointer(_gb[0]), gb2 = Pointer(_gb[1]), gw3 = Pointer(_gw[2]), gb3 = Pointer(_gb[2]);
        float* v1 = Pointer(_vw[0]);
        byte* m1 = BytePointer(_maskBytes[0]);
        long perW1 = _w[0].numel() / k, perW3 = _w[2].numel() / k, a1Size = (long)batch * h1, a2Size = (long)batch * h2;
        if (_alive1.Any(s => s is not null))
        {
            _block ??= new InputBlock(x.Columns, (int)_batch);
            _block.Fill(x);
        }
        else if (_alive2.Any(s => s is not null)) _block ??= new InputBlock(x.Columns, (int)_batch);
        for (int t = 0; t < k; t++)
        {
            var alive = _alive1[t];
            var second = _alive2[t];
            // Both layers sparse: the hidden activations and gradients stay unit-major ([units, stride]) between them.
            bool unitMajor = alive is not null && second is not null;
            float* a1t = second is not null ? _block!.Buffer(1, h1) : null;
            if (alive is not null)
                alive.Forward(_block!.X, _block.Stride, batch, b1 + (long)t * h1, unitMajor ? a1t : a1 + t * a1Size, unitMajor);
            else SparseKernels.Forward(x.RowStart, x.RowColumn, x.RowValue, batch, w1 + t * perW1, b1 + (long)t * h1, a1 + t * a1Size, h1);
            if (second is not null)
            {
                // The second layer from its alive structure: activations and gradients stored unit-major ([units, stride]).
                if (!unitMajor) AliveLayer.Transpose(a1 + t * a1Size, batch, h1, a1t, _block!.Stride);
                second.Forward(a1t, _block!.Stride, batch, b2 + (long)t * h2, a2 + t * a2Size);
            }
            else
            {
                views.A2[t].addmm_(views.A1[t], _fc2T[t], 0, 1);
                DenseKernels.BiasRelu(a2 + t * a2Size, b2 + (long)t * h2, batch, h2);
            }
            losses[t] += DenseKernels.Output(a2 + t * a2Size, batch, h2, w3 + t * perW3, b3 + (long)t * outputs, outputs, labels,
                labelOffset, gw3 + t * perW3, gb3 + (long)t * outputs, d2 + t * a2Size);
            DenseKernels.SumRows(d2 + t * a2Size, batch, h2, gb2 + (long)t * h2);
            float* d1t = null;
            if (second is not null)
            {
                float* d2t = _block!.Buffer(2, h2);
                AliveLayer.Transpose(d2 + t * a2Size, batch, h2, d2t, _block.Stride);
                d1t = _block.Buffer(3, h1);
                second.BackwardInput(d2t, _block.Stride, d1t);   // with the weights before their step
                if (!unitMajor) AliveLayer.TransposeBack(d1t, _block.Stride, batch, h1, d1 + t * a1Size);
                losses[t] += second.GradientStep(a1t, _block.Stride, d2t, (float)_l1[t], (float)_l2[t], _lr, _mu);
            }
            else
            {
                _fc2G[t].addmm_(views.D2T[t], views.A1[t], 0, 1);
                views.D1[t].addmm_(views.D2[t], _fc2W[t], 0, 1);
            }
            if (unitMajor)
            {
                AliveLayer.ReluGradient(d1t, a1t, h1, _block!.Stride, gb1 + (long)t * h1);
                losses[t] += alive!.GradientStep(_block.X, _block.Stride, d1t, (float)_l1[t], (float)_l2[t], _lr, _mu);
                continue;
            }
            DenseKernels.ReluGradient(d1 + t * a1Size, a1 + t * a1Size, batch, h1, gb1 + (long)t * h1);
            if (alive is not null) AliveLayer.Transpose(d1 + t * a1Size, batch, h1, _block!.Buffer(0, h1), _block.Stride);
            losses[t] += alive is not null
                ? alive.GradientStep(_block!.X, _block.Stride, _block.Buffer(0, h1), (float)_l1[t], (float)_l2[t], _lr, _mu)
                : SparseKernels.GradientStep(x.ColStart, x.ColRow, x.ColValue, x.Columns, d1 + t * a1Size, h1,
                    w1 + t * perW1, v1 + t * perW1, m1 + t * perW1, (float)_l1[t], (float)_l2[t], _lr, _mu);
        }
        Update(losses, 1);
    }

    /// <summary>One step with plain tensor operations on a dense batch x [B, 784] (any device).</summary>
    public Tensor Step(Tensor x, Tensor y, double[] penalties)
    {
        var ce = Gradients(x, y);
        Update(penalties, 0);
        return ce;
    }

    private Tensor? _dz3;

    private static BatchViews Replace(BatchViews? old, BatchViews views)
    {
        old?.Dispose();
        return views;
    }

    /// <summary>Output layer: logits, each trial's mean cross-entropy [K], dz3 = (softmax − onehot)/B, and its gradients.</summary>
    private Tensor OutputGradients(Tensor a2, Tensor y, long batch, Tensor minusOne)
    {
        int k = _k;
        var z3 = torch.bmm(a2, _w[2].transpose(1, 2)).add_(_b[2].unsqueeze(1));                  // [K, B, 10]
        var logp = z3.log_softmax(2);
        var target = y.view(1, batch, 1).expand(k, batch, 1);
        var ce = logp.gather(2, target).squeeze(2).mean([1]).neg().to(ScalarType.Float64);   // [K]
        var dz3 = logp.exp_().scatter_add_(2, target, minusOne).div_(batch);
        _gb[2].copy_(dz3.sum(1));
        _gw[2].copy_(torch.bmm(dz3.transpose(1, 2), a2));
        _dz3 = dz3;
        return ce;
    }

    private readonly long _batch;
    // Per-trial views of the second layer (fc2): its weight transposed, its gradient, its weight.
    private readonly Tensor[] _fc2T, _fc2G, _fc2W;
    private readonly BatchViews? _views;
    private BatchViews? _partial;

    /// <summary>
    /// Activation buffers for one batch size and per-trial views into them (made once, reused every step). They live
    /// outside every dispose scope (a short last batch makes its views inside a step's scope) until <see cref="Dispose"/>.
    /// </summary>
    private sealed class BatchViews : IDisposable
    {
        public readonly long Batch;
        public readonly Tensor A1All, A2All, D1All, D2All;
        public readonly Tensor[] A1, A2, D1, D2, D2T;

        public BatchViews(StackedState s, long batch)
        {
            Batch = batch;
            int k = s._k;
            var device = s._w[0].device;
            A1All = torch.empty(k, batch, s._units[0], device: device);
            A2All = torch.empty(k, batch, s._units[1], device: device);
            D1All = torch.empty(k, batch, s._units[0], device: device);
            D2All = torch.empty(k, batch, s._units[1], device: device);
            A1 = Enumerable.Range(0, k).Select(t => A1All[t]).ToArray();
            A2 = Enumerable.Range(0, k).Select(t => A2All[t]).ToArray();
            D1 = Enumerable.Range(0, k).Select(t => D1All[t]).ToArray();
            D2 = Enumerable.Range(0, k).Select(t => D2All[t]).ToArray();
            D2T = D2.Select(d => d.t()).ToArray();
            foreach (var t in All()) t.DetachFromDisposeScope();
        }

        private IEnumerable<Tensor> All() => new[] { A1All, A2All, D1All, D2All }.Concat(A1).Concat(A2).Concat(D1).Concat(D2).Concat(D2T);

        public void Dispose()
        {
            foreach (var t in All()) t.Dispose();
        }
    }

    private Tensor? _evalA1, _evalA2;

    public void Dispose()
    {
        _evalA1?.Dispose();
        _evalA2?.Dispose();
        _block?.Dispose();
        _evalBlock?.Dispose();
        _views?.Dispose();
        _partial?.Dispose();
    }

    /// <summary>Forward and backward of every trial with plain tensor operations (any device); fills the gradient buffers.</summary>
    private Tensor Gradients(Tensor x, Tensor y)
    {
        long batch = x.shape[0];
        int k = _k;
        using var _ = torch.no_grad();
        var xk = x.unsqueeze(0).expand(k, -1, -1);                                            // [K, B, 784] (no copy)
        var a1 = torch.bmm(xk, _w[0]).add_(_b[0].unsqueeze(1)).relu_();                       // [K, B, 300]
        var a2 = torch.bmm(a1, _w[1].transpose(1, 2)).add_(_b[1].unsqueeze(1)).relu_();       // [K, B, 100]
        var ce = OutputGradients(a2, y, batch, torch.full(new long[] { k, batch, 1 }, -1f, device: x.device));
        var dz2 = torch.bmm(_dz3!, _w[2]).masked_fill_(a2.le(0), 0);                           // [K, B, 100]
        _gb[1].copy_(dz2.sum(1));
        _gw[1].copy_(torch.bmm(dz2.transpose(1, 2), a1));
        var dz1 = torch.bmm(dz2, _w[1]).masked_fill_(a1.le(0), 0);                           // [K, B, 300]
        _gb[0].copy_(dz1.sum(1));
        _gw[0].copy_(torch.bmm(xk.transpose(1, 2), dz1));                                     // [K, 784, 300]
        return ce;
    }

    /// <summary>Top-1 accuracy of every trial on a labelled set (x [N, 784], y [N]).</summary>
    public unsafe double[] Evaluate(Tensor x, Tensor y)
    {
        using var scope = torch.NewDisposeScope();
        using var _ = torch.no_grad();
        int k = _k;
        Tensor a1, a2;
        if (_cpu)
        {
            var rows = SparseRows.Of(x);
            int units = (int)_units[0];
            // Buffers made once per group (fresh multi-megabyte tensors every epoch cost page faults).
            if (_evalA1 is null || _evalA1.shape[1] != rows.Rows)
            {
                _evalA1?.Dispose(); _evalA2?.Dispose();
                _evalA1 = torch.empty(k, rows.Rows, units).DetachFromDisposeScope();
                _evalA2 = torch.empty(k, rows.Rows, _units[1]).DetachFromDisposeScope();
            }
            a1 = _evalA1;
            a2 = _evalA2!;
            long perW1 = _w[0].numel() / k;
            float* w1 = Pointer(_w[0]), b1 = Pointer(_b[0]), a = Pointer(a1), a2p = Pointer(a2);
            if (_alive1.Any(s => s is not null))
            {
                // Sparse trials: the test set in blocks of samples, each block stored input-major once for all of them.
                _evalBlock ??= new InputBlock(rows.Columns, AliveLayer.Block);
                for (int first = 0; first < rows.Rows; first += AliveLayer.Block)
                {
                    int count = Math.Min(AliveLayer.Block, rows.Rows - first);
                    _evalBlock.Fill(rows, first, count);
                    for (int t = 0; t < k; t++)
                        _alive1[t]?.Forward(_evalBlock.X, _evalBlock.Stride, count, b1 + (long)t * units,
                            a + ((long)t * rows.Rows + first) * units);
                }
            }
            for (int t = 0; t < k; t++)
            {
                if (_alive1[t] is null)
                    SparseKernels.Forward(rows.Start, rows.Column, rows.Value, rows.Rows, w1 + t * perW1, b1 + (long)t * units,
                        a + (long)t * rows.Rows * units, units);
                int h2 = (int)_units[1];
                if (_alive2[t] is { } second)
                {
                    _evalBlock ??= new InputBlock(rows.Columns, AliveLayer.Block);
                    float* a1t = _evalBlock.Buffer(1, units);
                    for (int first = 0; first < rows.Rows; first += AliveLayer.Block)
                    {
                        int count = Math.Min(AliveLayer.Block, rows.Rows - first);
                        AliveLayer.Transpose(a + ((long)t * rows.Rows + first) * units, count, units, a1t, _evalBlock.Stride);
                        second.Forward(a1t, _evalBlock.Stride, count, Pointer(_b[1]) + (long)t * h2,
                            a2p + ((long)t * rows.Rows + first) * h2);
                    }
                    continue;
                }
                using var a1t2 = a1[t];
                using var a2t = a2[t];
                a2t.addmm_(a1t2, _fc2T[t], 0, 1);
                DenseKernels.BiasRelu(a2p + (long)t * rows.Rows * h2, Pointer(_b[1]) + t * h2, rows.Rows, h2);
            }
        }
        else
        {
            a1 = torch.bmm(x.unsqueeze(0).expand(k, -1, -1), _w[0]).add_(_b[0].unsqueeze(1)).relu_();
            a2 = torch.bmm(a1, _w[1].transpose(1, 2)).add_(_b[1].unsqueeze(1)).relu_();
        }
        var z3 = torch.bmm(a2, _w[2].transpose(1, 2)).add_(_b[2].unsqueeze(1));
        var correct = z3.argmax(2).eq(y.unsqueeze(0)).sum(1).cpu().data<long>().ToArray();
        return correct.Select(c => (double)c / y.shape[0]).ToArray();
    }

    private unsafe double WeightStep(int layer, int t)
    {
        long per = _w[layer].numel() / _k;
        return Kernels.WeightStep(Pointer(_w[layer]) + t * per, Pointer(_gw[layer]) + t * per, Pointer(_vw[layer]) + t * per,
            BytePointer(_maskBytes[layer]) + t * per, per, (float)_l1[t], (float)_l2[t], _lr, _mu);
    }

    /// <summary>
    /// grad += λ1·sign(w) + λ2·w, then SGD with momentum, then w ⊙= mask, for every trial and the layers from
    /// <paramref name="fromLayer"/> on (biases of all layers); adds each trial's penalty (λ1·Σ|w| + λ2/2·Σw², taken
    /// before the step, as the loss is) to <paramref name="penalties"/>.
    /// </summary>
    public unsafe void Update(double[] penalties, int fromLayer)
    {
        using var _ = torch.no_grad();
        if (_cpu)
        {
            for (int i = fromLayer; i < _w.Length; i++)
                for (int t = 0; t < _k; t++)
                    if (!(i == 1 && _alive2[t] is not null))   // a sparse second layer took its step in Step
                        penalties[t] += WeightStep(i, t);
            for (int i = 0; i < _b.Length; i++)
                Kernels.BiasStep(Pointer(_b[i]), Pointer(_gb[i]), Pointer(_vb[i]), _b[i].numel(), _lr, _mu);
            return;
        }
        using var scope = torch.NewDisposeScope();
        var penalty = torch.zeros(new long[] { _k }, dtype: ScalarType.Float64, device: _w[0].device);
        bool anyL1 = _l1.Any(x => x > 0), anyL2 = _l2.Any(x => x > 0);
        for (int i = fromLayer; i < _w.Length; i++)
        {
            var w = _w[i];
            var g = _gw[i];
            if (anyL1)
            {
                penalty.add_(w.abs().sum([1, 2]).mul_(_l1Column.view(_k)).to(ScalarType.Float64));
                g.addcmul_(w.sign(), _l1Column, 1);
            }
            if (anyL2)
            {
                penalty.add_(w.square().sum([1, 2]).mul_(_l2Column.view(_k)).mul_(0.5).to(ScalarType.Float64));
                g.addcmul_(w, _l2Column, 1);
            }
            _vw[i].mul_(_mu).add_(g);
            w.add_(_vw[i], alpha: -_lr).mul_(_mask[i]);
        }
        for (int i = 0; i < _b.Length; i++)
        {
            _vb[i].mul_(_mu).add_(_gb[i]);
            _b[i].add_(_vb[i], alpha: -_lr);
        }
        var values = penalty.cpu().data<double>().ToArray();
        for (int t = 0; t < _k; t++) penalties[t] += values[t];
    }

    private static unsafe float* Pointer(Tensor t) => (float*)THSTensor_data(t.Handle);
    /// <summary>The address of a contiguous CPU tensor's data.</summary>
    internal static IntPtr DataPointer(Tensor t) => THSTensor_data(t.Handle);
    private static unsafe byte* BytePointer(Tensor t) => (byte*)THSTensor_data(t.Handle);

    /// <summary>Trial t's mask of layer i changed (a pruning event): refresh the kernels' byte copy.</summary>
    public void MaskChanged(int layer, int t)
    {
        using var scope = torch.NewDisposeScope();
        _maskBytes[layer][t].copy_(_mask[layer][t]);
    }

    [DllImport("LibTorchSharp")]
    private static extern IntPtr THSTensor_data(IntPtr handle);
}

/// <summary>
/// When a trial's layers train from their alive structures (<see cref="AliveLayer"/>): once a pruning event leaves less
/// than <see cref="FirstBelow"/> of its first layer alive (<see cref="SecondBelow"/> of its second), or from the first
/// step (<see cref="FromStart"/>). Below the defaults the alive kernels beat the dense ones on the CPU
/// (bench/fusion/run --kernels, --rates).
/// </summary>
internal sealed record SparseTraining(double FirstBelow, double SecondBelow, bool FromStart = false)
{
    /// <summary>The trainer's choice.</summary>
    public static readonly SparseTraining Auto = new(0.4, 0.5);
    /// <summary>Never: the dense kernels throughout (the reference the sparse path is compared with).</summary>
    public static readonly SparseTraining Off = new(0, 0);
    /// <summary>Both layers from the first step (tests: the alive kernels on every pattern of alive entries).</summary>
    public static readonly SparseTraining Always = new(1, 1, FromStart: true);
}

/// <summary>The CPU optimizer passes: one read of w, grad, momentum and mask, one write of w and momentum.</summary>
internal static unsafe class Kernels
{
    /// <summary>One trial's weight tensor (n contiguous floats); returns its penalty before the step.</summary>
    public static double WeightStep(float* w, float* g, float* v, byte* mask, long n, float l1, float l2, float lr, float mu)
    {
        var vl1 = Vector256.Create(l1);
        var vl2 = Vector256.Create(l2);
        var vlr = Vector256.Create(lr);
        var vmu = Vector256.Create(mu);
        var absMask = Vector256.Create(0x7FFFFFFF).AsSingle();
        var signBit = Vector256.Create(unchecked((int)0x80000000)).AsSingle();
        var one = Vector256.Create(1f);
        var zero = Vector256<float>.Zero;
        var sumAbs = Vector256<float>.Zero;
        var sumSq = Vector256<float>.Zero;
        double penalty = 0;
        long i = 0;
        // Partial sums are flushed to double every 4096 entries so long tensors keep their precision.
        while (i + 8 <= n)
        {
            long blockEnd = Math.Min(n - 7, i + 4096);
            for (; i < blockEnd; i += 8)
            {
                var wi = Vector256.Load(w + i);
                var gi = Vector256.Load(g + i);
                var abs = wi & absMask;
                // sign(w): ±1 for w ≠ 0, 0 for w = 0 (as torch.sign)
                var sign = Vector256.ConditionalSelect(Vector256.Equals(wi, zero), zero, (wi & signBit) | one);
                gi += vl1 * sign + vl2 * wi;
                sumAbs += abs;
                sumSq += wi * wi;
                var vi = vmu * Vector256.Load(v + i) + gi;
                vi.Store(v + i);
                Vector256.ConditionalSelect(SparseKernels.Alive(mask + i), wi - vlr * vi, Vector256<float>.Zero).Store(w + i);
            }
            penalty += l1 * (double)Vector256.Sum(sumAbs) + 0.5 * l2 * (double)Vector256.Sum(sumSq);
            sumAbs = Vector256<float>.Zero;
            sumSq = Vector256<float>.Zero;
        }
        for (; i < n; i++)
        {
            float wi = w[i];
            float gi = g[i] + l1 * (wi > 0 ? 1 : wi < 0 ? -1 : wi == 0 ? 0 : float.NaN) + l2 * wi;
            penalty += l1 * (double)MathF.Abs(wi) + 0.5 * l2 * (double)wi * wi;
            float vi = mu * v[i] + gi;
            v[i] = vi;
            w[i] = mask[i] != 0 ? wi - lr * vi : 0;
        }
        return penalty;
    }

    /// <summary>SGD with momentum on a bias (never regularized, never masked).</summary>
    public static void BiasStep(float* b, float* g, float* v, long n, float lr, float mu)
    {
        for (long i = 0; i < n; i++)
        {
            float vi = mu * v[i] + g[i];
            v[i] = vi;
            b[i] -= lr * vi;
        }
    }
}
