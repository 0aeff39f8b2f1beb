"The bad-input sweep over scratchnet.training: losses, accuracy, the training loop and its plot."
import math, numpy as np, torch, pytest
import torch.nn.functional as F
from torch import nn
from hypothesis import given, settings, strategies as st
from harness import outcome
from scratchnet.training import logsumexp, log_softmax, cross_entropy, CrossEntropy, accuracy, evaluate, fit, plot_history

M = 'training'
G = lambda k=0: torch.Generator().manual_seed(k)
inf, nan = float('inf'), float('nan')

def logits(*shape, dtype=torch.float32, k=0): return (torch.randn(*shape, generator=G(k), dtype=torch.float64) * 3).to(dtype)

# (description, logits): every kind of input a learner might pass where (n, c) float logits are expected
LOGITS = [('(3,4)', logits(3, 4)), ('(1,4) batch of 1', logits(1, 4)), ('(3,1) one class', logits(3, 1)), ('(0,4) empty batch', logits(0, 4)),
          ('(3,0) no classes', logits(3, 0)), ('1-D', logits(4)), ('3-D', logits(2, 3, 4)), ('0-d', torch.tensor(1.)),
          ('float64', logits(3, 4, dtype=torch.float64)), ('float16', logits(3, 4, dtype=torch.float16)),
          ('bfloat16', logits(3, 4, dtype=torch.bfloat16)), ('int64', torch.randint(-5, 5, (3, 4), generator=G())),
          ('bool', torch.rand(3, 4, generator=G()) > 0.5), ('transposed', logits(4, 3).t()), ('numpy', logits(3, 4).numpy()),
          ('list', [[1., 2.], [3., 4.]]), ('None', None), ('NaN entry', torch.tensor([[nan, 1.], [0., 1.]])),
          ('inf rows', torch.tensor([[-inf, -inf, -inf], [inf, 0., 1.], [-inf, 0., 2.], [inf, inf, 0.]])),
          ('huge', torch.tensor([[1e38, -1e38], [3e38, 3e38]])), ('expanded (stride 0)', torch.tensor([[1., 2., 3.]]).expand(4, 3))]

def _usable(x): return isinstance(x, torch.Tensor) and x.ndim == 2 and x.is_floating_point() and x.shape[1] > 0

def _same_loose(r, want):
    "float16/bfloat16: our arithmetic rounds differently from torch's fused kernels, so compare at that precision."
    return isinstance(r, torch.Tensor) and r.dtype == want.dtype and r.shape == want.shape and \
        torch.allclose(r.double(), want.double(), rtol=2e-2, atol=2e-2, equal_nan=True)

@pytest.mark.parametrize('what,x', LOGITS, ids=[w for w, _ in LOGITS])
@pytest.mark.parametrize('fn,ref', [(logsumexp, lambda x: torch.logsumexp(x, 1)), (log_softmax, lambda x: F.log_softmax(x, 1))],
                         ids=['logsumexp', 'log_softmax'])
def test_log_softmax_family(fn, ref, what, x):
    if not _usable(x): outcome(M, fn.__name__, lambda: fn(x), error=True, what=what)
    elif x.dtype in (torch.float16, torch.bfloat16): outcome(M, fn.__name__, lambda: fn(x), ok=lambda r: _same_loose(r, ref(x)), what=what)
    else: outcome(M, fn.__name__, lambda: fn(x), ref=lambda: ref(x), what=what)

@settings(max_examples=40, deadline=None, derandomize=True)
@given(st.integers(0, 5), st.integers(1, 5), st.sampled_from([1., 100., 1e30]), st.integers(0, 10**6),
       st.sampled_from([None, -inf, inf, nan]))
def test_logsumexp_any_values(n, c, scale, seed, special):
    x = torch.randn(n, c, generator=G(seed), dtype=torch.float64) * scale
    if special is not None and n: x[0, seed % c] = special; x[n - 1] = special if seed % 2 else x[n - 1]
    outcome(M, 'logsumexp', lambda: logsumexp(x), ref=lambda: torch.logsumexp(x, 1), what=f"{n}×{c} {special}")
    outcome(M, 'log_softmax', lambda: log_softmax(x), ref=lambda: F.log_softmax(x, 1), what=f"{n}×{c} {special}")

TARGETS = [('int64', torch.tensor([0, 3, 1])), ('uint8', torch.tensor([0, 3, 1], dtype=torch.uint8)),
           ('int32', torch.tensor([0, 3, 1], dtype=torch.int32)), ('int16', torch.tensor([0, 3, 1], dtype=torch.int16)),
           ('int8', torch.tensor([0, 3, 1], dtype=torch.int8)), ('bool', torch.tensor([True, False, True])),
           ('float', torch.tensor([0., 3., 1.])), ('out of range', torch.tensor([0, 4, 1])), ('negative', torch.tensor([0, -1, 1])),
           ('too short', torch.tensor([0, 1])), ('2-D', torch.tensor([[0], [3], [1]])), ('list', [0, 3, 1]),
           ('numpy', np.array([0, 3, 1])), ('None', None), ('non-contiguous', torch.tensor([0, 9, 3, 9, 1, 9])[::2])]

@pytest.mark.parametrize('what,t', TARGETS, ids=[w for w, _ in TARGETS])
@pytest.mark.parametrize('dtype', [torch.float32, torch.float64])
def test_cross_entropy_targets(dtype, what, t):
    x = logits(3, 4, dtype=dtype)
    good = isinstance(t, torch.Tensor) and t.shape == (3,) and not t.dtype.is_floating_point and t.dtype != torch.bool \
        and 0 <= int(t.min()) and int(t.max()) < 4
    if good:
        outcome(M, 'cross_entropy', lambda: cross_entropy(x, t), ref=lambda: F.cross_entropy(x, t.long()), what=what)
        def layer_grad():
            xg, ce = x.clone(), CrossEntropy(); ce(xg, t); ce.backward(); return xg.g
        def auto_grad():
            xa = x.clone().requires_grad_(); F.cross_entropy(xa, t.long()).backward(); return xa.grad
        outcome(M, 'CrossEntropy', layer_grad, ref=auto_grad, what=what)
    else:
        outcome(M, 'cross_entropy', lambda: cross_entropy(x, t), error=True, what=what)
        outcome(M, 'cross_entropy', lambda: CrossEntropy()(x, t), error=True, what=what)

@pytest.mark.parametrize('what,x', LOGITS, ids=[w for w, _ in LOGITS])
def test_cross_entropy_logits(what, x):
    n = x.shape[0] if isinstance(x, (torch.Tensor, np.ndarray)) and x.ndim >= 1 else 2
    t = torch.zeros(n, dtype=torch.long)
    if _usable(x) and n > 0 and x.dtype not in (torch.float16, torch.bfloat16):
        outcome(M, 'cross_entropy', lambda: cross_entropy(x, t), ref=lambda: F.cross_entropy(x, t), what=what)
    elif _usable(x) and n > 0:
        outcome(M, 'cross_entropy', lambda: cross_entropy(x, t), ok=lambda r: _same_loose(r, F.cross_entropy(x, t)), what=what)
    else: outcome(M, 'cross_entropy', lambda: cross_entropy(x, t), error=True, what=what)

@pytest.mark.parametrize('what,x', LOGITS, ids=[w for w, _ in LOGITS])
def test_accuracy(what, x):
    n = x.shape[0] if isinstance(x, (torch.Tensor, np.ndarray)) and x.ndim >= 1 else 2
    t = torch.arange(n) % 2
    ok = isinstance(x, torch.Tensor) and x.ndim == 2 and x.shape[0] > 0 and x.shape[1] > 0 and x.dtype != torch.bool
    if ok: outcome(M, 'accuracy', lambda: accuracy(x, t), ref=lambda: (x.argmax(1) == t).float().mean(), what=what)
    else: outcome(M, 'accuracy', lambda: accuracy(x, t), error=True, what=what)
    outcome(M, 'accuracy', lambda: accuracy(logits(3, 4), t), error=n != 3, ok=lambda r: r.shape == () and 0 <= r <= 1,
            what=f"targets for {what}")

# A small, fast classifier and data for fit, evaluate and plot_history
X, Y = torch.randn(20, 4, generator=G(1)), torch.arange(20) % 3
DATA = (X[:12], Y[:12], X[12:], Y[12:])
def net(): torch.manual_seed(0); return nn.Linear(4, 3)
def good_hist(h): return isinstance(h, dict) and h['epoch'] == list(range(1, len(h['epoch']) + 1)) and all(math.isfinite(v) for v in h['train_loss'])

BAD_FIT = [('model None', dict(model=None)), ('model a function', dict(model=lambda x: x)), ('data of 3', dict(data=DATA[:3])),
           ('data a tensor', dict(data=X)), ('data lists', dict(data=[t.tolist() for t in DATA])),
           ('y_train too short', dict(data=(X[:12], Y[:11], *DATA[2:]))), ('float y', dict(data=(X[:12], Y[:12].float(), *DATA[2:]))),
           ('bool y', dict(data=(X[:12], Y[:12] > 0, *DATA[2:]))), ('int x', dict(data=(X[:12].long(), *DATA[1:]))),
           ('empty train', dict(data=(X[:0], Y[:0], *DATA[2:]))), ('empty valid', dict(data=(*DATA[:2], X[:0], Y[:0]))),
           ('1-D x', dict(data=(X[:12, 0], Y[:12], *DATA[2:]))), ('x_valid of 5 features', dict(data=(*DATA[:2], torch.randn(8, 5), Y[12:]))),
           ('epochs 0', dict(epochs=0)), ('epochs -1', dict(epochs=-1)), ('epochs 1.5', dict(epochs=1.5)), ('epochs True', dict(epochs=True)),
           ('epochs None', dict(epochs=None)), ('bs 0', dict(bs=0)), ('bs "8"', dict(bs='8')), ('lr 0', dict(lr=0)), ('lr -1', dict(lr=-1.)),
           ('lr nan', dict(lr=nan)), ('lr inf', dict(lr=inf)), ('lr None', dict(lr=None)), ('momentum 1', dict(momentum=1)),
           ('momentum -0.1', dict(momentum=-0.1)), ('momentum nan', dict(momentum=nan)), ('loss_func 3', dict(loss_func=3)),
           ('seed "a"', dict(seed='a')), ('seed 2**70', dict(seed=2**70))]

@pytest.mark.parametrize('what,kw', BAD_FIT, ids=[w for w, _ in BAD_FIT])
def test_fit_bad(what, kw):
    args = {**dict(model=net(), data=DATA, epochs=1, progress=False), **kw}
    outcome(M, 'fit', lambda: fit(**args), error=True, what=what)

@pytest.mark.parametrize('what,kw', [('batch of 1', dict(bs=1)), ('huge batch', dict(bs=10**12)), ('float64 data', dict(dtype=torch.float64)),
                                     ('one valid row', dict(valid=1)), ('momentum and anneal', dict(momentum=0.9, anneal=True)),
                                     ('non-contiguous x', dict(transposed=True))])
def test_fit_edges(what, kw):
    m = net().to(kw.get('dtype', torch.float32))
    xt = X[:12].to(kw.get('dtype', torch.float32))
    if kw.get('transposed'): xt = xt.t().contiguous().t()
    data = (xt, Y[:12], X[12:12 + kw.get('valid', 8)].to(xt.dtype), Y[12:12 + kw.get('valid', 8)])
    extra = {k: v for k, v in kw.items() if k in ('bs', 'momentum', 'anneal')}
    outcome(M, 'fit', lambda: fit(m, data, epochs=2, progress=False, **extra), ok=good_hist, what=what)

def test_evaluate_and_plot():
    m = net()
    outcome(M, 'evaluate', lambda: evaluate(m, X, Y), ok=lambda r: len(r) == 2 and 0 <= r[1] <= 1)
    outcome(M, 'evaluate', lambda: evaluate(m, X, Y, bs=1), ok=lambda r: len(r) == 2 and 0 <= r[1] <= 1, what='bs=1')
    for what, args in [('empty', (X[:0], Y[:0])), ('mismatch', (X, Y[:3])), ('lists', (X.tolist(), Y.tolist())), ('float y', (X, Y.float())),
                       ('bs 0', (X, Y, None, 0)), ('None', (None, None)), ('loss_func 3', (X, Y, 3))]:
        outcome(M, 'evaluate', lambda: evaluate(m, *args), error=True, what=what)
    outcome(M, 'evaluate', lambda: evaluate(None, X, Y), error=True, what='model None')
    h = fit(net(), DATA, epochs=2, progress=False)
    import matplotlib.figure
    outcome(M, 'plot_history', lambda: plot_history(h), ok=lambda f: isinstance(f, matplotlib.figure.Figure))
    outcome(M, 'plot_history', lambda: plot_history(h, title='t'), ok=lambda f: isinstance(f, matplotlib.figure.Figure), what='title')
    for what, bad in [('empty dict', {}), ('None', None), ('list', [h]), ('no epochs', {**h, 'epoch': []}),
                      ('short valid_acc', {**h, 'valid_acc': h['valid_acc'][:1]}), ('missing key', {k: v for k, v in h.items() if k != 'valid_loss'}),
                      ('no batches', {**h, 'batch_loss': []})]:
        outcome(M, 'plot_history', lambda: plot_history(bad), error=True, what=what)
