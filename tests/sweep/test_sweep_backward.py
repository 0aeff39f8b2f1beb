"The bad-input sweep over scratchnet.backward: every call gives autograd's result or a clear error naming the function."
import numpy as np, torch, pytest
import torch.nn.functional as F
from hypothesis import given, settings, strategies as st
from harness import random_net, outcome
from scratchnet.backward import check_mse, mse, mse_grad, check_g, lin_grad, relu_grad, forward_and_backward, numerical_grad, autograd_grads, grad_table

M = 'backward'
g = torch.Generator().manual_seed(0)
def r(*s, dtype=torch.float32): return torch.randn(*s, generator=g, dtype=dtype)
def expect(*a, **k): outcome(*a, **k)

NAN = torch.tensor([float('nan'), 1., float('inf')])
# (output, targ, valid): valid means shapes (n, 1) or (n,) against (n,), n >= 1, floats of one dtype
MSE_CASES = {'(n,1)': (r(5, 1), r(5), True), '(n,)': (r(5), r(5), True), 'batch 1': (r(1, 1), r(1), True),
             'float64': (r(4, 1, dtype=torch.float64), r(4, dtype=torch.float64), True), 'float16': (r(4, 1).half(), r(4).half(), True),
             'transposed (1,n).t()': (r(1, 4).t(), r(4), True), 'nan/inf': (NAN[:, None], r(3), True),
             'n=0': (r(0, 1), r(0), False), 'targ (n,1)': (r(5, 1), r(5, 1), False), 'output (n,2)': (r(5, 2), r(5), False),
             'n mismatch': (r(5, 1), r(4), False), '0-d targ': (r(1, 1), torch.tensor(1.), False), '3-D output': (r(5, 1, 1), r(5), False),
             'int targ': (r(3, 1), torch.ones(3, dtype=torch.int64), False), 'bool targ': (r(3, 1), torch.ones(3, dtype=torch.bool), False),
             'int both': (torch.ones(3, 1, dtype=torch.int64), torch.ones(3, dtype=torch.int64), False),
             'mixed float': (r(3, 1), r(3, dtype=torch.float64), False), 'numpy': (np.ones((3, 1)), np.ones(3), False),
             'list': ([[1.], [2.]], torch.ones(2), False), 'None': (None, r(2), False), 'targ None': (r(2, 1), None, False)}

@pytest.mark.parametrize('case', MSE_CASES, ids=str)
def test_mse(case):
    o, t, valid = MSE_CASES[case]
    if not valid:
        for fn, f in (('mse', mse), ('mse_grad', mse_grad), ('f', lambda o, t: check_mse('f', o, t))):
            expect(M, fn, lambda: f(o, t), error=True, what=case)
        return
    expect(M, 'mse', lambda: mse(o, t), ref=lambda: F.mse_loss(o.reshape(-1), t), what=case)
    def ref_grad():
        oo = o.detach().clone().requires_grad_()
        F.mse_loss(oo.reshape(-1), t).backward()
        return oo.grad
    o2 = o.detach().clone()
    expect(M, 'mse_grad', lambda: (mse_grad(o2, t), o2.g)[1], ref=ref_grad, what=case)

def lin_ref(inp, w, b, gout):
    ts = [t.detach().clone().requires_grad_() for t in (inp, w, b)]
    (ts[0] @ ts[1] + ts[2]).backward(gout)
    return tuple(t.grad for t in ts)

def with_g(out, gout):
    out = out.detach().clone(); out.g = gout; return out

LIN_CASES = {'float32': (r(4, 3), r(3, 2), r(2)), 'float64': (r(4, 3, dtype=torch.float64), r(3, 2, dtype=torch.float64), r(2, dtype=torch.float64)),
             'batch 1': (r(1, 3), r(3, 2), r(2)), 'n=0': (r(0, 3), r(3, 2), r(2)), 'k=0': (r(4, 0), r(0, 2), r(2)),
             'transposed': (r(3, 4).t(), r(2, 3).t(), r(2)), 'size-1': (r(1, 1), r(1, 1), r(1))}

@pytest.mark.parametrize('case', LIN_CASES, ids=str)
def test_lin_grad(case):
    inp, w, b = LIN_CASES[case]
    out = inp @ w + b
    gout = torch.randn(out.shape, generator=g, dtype=out.dtype)
    o, i2, w2, b2 = with_g(out, gout), inp.clone(), w.clone(), b.clone()
    expect(M, 'lin_grad', lambda: (lin_grad(i2, o, w2, b2), (i2.g, w2.g, b2.g))[1], ref=lambda: lin_ref(inp, w, b, gout), what=case)

LIN_BAD = {'no out.g': lambda: lin_grad(r(4, 3), r(4, 2), r(3, 2), r(2)),
           'out.g wrong shape': lambda: lin_grad(r(4, 3), with_g(r(4, 2), r(2, 4)), r(3, 2), r(2)),
           'out.g wrong dtype': lambda: lin_grad(r(4, 3), with_g(r(4, 2), r(4, 2, dtype=torch.float64)), r(3, 2), r(2)),
           'out.g a list': lambda: lin_grad(r(4, 3), with_g(r(4, 2), [[0.]]), r(3, 2), r(2)),
           'w mismatch': lambda: lin_grad(r(4, 3), with_g(r(4, 2), r(4, 2)), r(2, 3), r(2)),
           'out mismatch': lambda: lin_grad(r(4, 3), with_g(r(5, 2), r(5, 2)), r(3, 2), r(2)),
           'b mismatch': lambda: lin_grad(r(4, 3), with_g(r(4, 2), r(4, 2)), r(3, 2), r(3)),
           'mixed dtypes': lambda: lin_grad(r(4, 3, dtype=torch.float64), with_g(r(4, 2), r(4, 2)), r(3, 2), r(2)),
           'int': lambda: lin_grad(torch.ones(4, 3, dtype=torch.int64), with_g(r(4, 2), r(4, 2)), r(3, 2), r(2)),
           'numpy': lambda: lin_grad(np.ones((4, 3)), with_g(r(4, 2), r(4, 2)), r(3, 2), r(2)),
           'None': lambda: lin_grad(None, with_g(r(4, 2), r(4, 2)), r(3, 2), r(2))}

@pytest.mark.parametrize('case', LIN_BAD, ids=str)
def test_lin_grad_bad(case): expect(M, 'lin_grad', LIN_BAD[case], error=True, what=case)

RELU_CASES = {'float32': r(5, 4), 'zeros': torch.zeros(3, 2), 'mixed with zeros': torch.tensor([-1., 0., 2., 0.]), 'float64': r(3, dtype=torch.float64),
              'empty': r(0, 3), 'transposed': r(4, 3).t(), 'nan/inf': NAN, '0-d': torch.tensor(0.5)}

@pytest.mark.parametrize('case', RELU_CASES, ids=str)
def test_relu_grad(case):
    inp = RELU_CASES[case]
    gout = torch.randn(inp.shape, generator=g, dtype=inp.dtype)
    def ref():   # autograd's: 0 where inp <= 0, the gradient elsewhere (a NaN input passes it on, as torch.relu does)
        ii = inp.detach().clone().requires_grad_(); torch.relu(ii).backward(gout); return ii.grad
    i2, o = inp.clone(), with_g(torch.relu(inp), gout)
    expect(M, 'relu_grad', lambda: (relu_grad(i2, o), i2.g)[1], ref=ref, what=case)

RELU_BAD = {'shapes differ': lambda: relu_grad(r(4, 3), with_g(r(3, 4), r(3, 4))), 'no out.g': lambda: relu_grad(r(4), r(4)),
            'int': lambda: relu_grad(torch.ones(3, dtype=torch.int64), with_g(r(3), r(3))), 'list': lambda: relu_grad([1.], with_g(r(1), r(1))),
            'bool': lambda: relu_grad(torch.ones(3, dtype=torch.bool), with_g(r(3), r(3)))}

@pytest.mark.parametrize('case', RELU_BAD, ids=str)
def test_relu_grad_bad(case): expect(M, 'relu_grad', RELU_BAD[case], error=True, what=case)

def net(n, k, h, dtype=torch.float32, zero_row=False):
    ts = [r(n, k, dtype=dtype), r(n, dtype=dtype), r(k, h, dtype=dtype), r(h, dtype=dtype) * 0.1, r(h, 1, dtype=dtype), r(1, dtype=dtype) * 0.1]
    if zero_row: ts[0][0] = 0; ts[3].zero_(); ts[5].zero_()
    return ts

def ref_grads(inp, targ, w1, b1, w2, b2):
    ts = [t.detach().clone().requires_grad_() for t in (inp, w1, b1, w2, b2)]
    F.mse_loss((torch.relu(ts[0] @ ts[1] + ts[2]) @ ts[3] + ts[4]).reshape(-1), targ).backward()
    return dict(zip(['inp', 'w1', 'b1', 'w2', 'b2'], [t.grad for t in ts]))

NETS = {'float32': net(6, 4, 3), 'float64': net(5, 3, 4, torch.float64), 'batch 1': net(1, 4, 3), 'size-1 dims': net(1, 1, 1),
        'zero row, zero biases': net(4, 3, 5, zero_row=True), 'hidden 0': net(3, 2, 0), 'inputs 0': net(3, 0, 2)}

@pytest.mark.parametrize('case', NETS, ids=str)
def test_forward_and_backward(case):
    ts = [t.clone() for t in NETS[case]]
    def ours():
        forward_and_backward(*ts)
        return dict(zip(['inp', 'w1', 'b1', 'w2', 'b2'], [t.g for t in (ts[0], *ts[2:])]))
    expect(M, 'forward_and_backward', ours, ref=lambda: ref_grads(*NETS[case]), what=case)
    expect(M, 'autograd_grads', lambda: autograd_grads(*NETS[case]), ref=lambda: ref_grads(*NETS[case]), what=case)

def test_forward_and_backward_transposed():
    inp, targ, w1, b1, w2, b2 = net(4, 3, 5)
    w1t = w1.t().contiguous().t()                           # same values, non-contiguous
    ts = [inp.clone(), targ, w1t, b1.clone(), w2.clone(), b2.clone()]
    expect(M, 'forward_and_backward', lambda: (forward_and_backward(*ts), ts[2].g)[1], ref=lambda: ref_grads(inp, targ, w1, b1, w2, b2)['w1'])

def bad_nets():
    inp, targ, w1, b1, w2, b2 = net(4, 3, 5)
    return {'n=0': (inp[:0], targ[:0], w1, b1, w2, b2), 'w1 transposed': (inp, targ, w1.t(), b1, w2, b2), 'b1 short': (inp, targ, w1, b1[:2], w2, b2),
            'targ short': (inp, targ[:2], w1, b1, w2, b2), 'targ (n,1)': (inp, targ[:, None], w1, b1, w2, b2), 'w2 2 outputs': (inp, targ, w1, b1, r(5, 2), r(2)),
            '1-D inp': (inp[0], targ, w1, b1, w2, b2), 'float64 inp': (inp.double(), targ, w1, b1, w2, b2), 'int targ': (inp, targ.long(), w1, b1, w2, b2),
            'list w2': (inp, targ, w1, b1, w2.tolist(), b2), 'None b2': (inp, targ, w1, b1, w2, None), 'numpy inp': (inp.numpy(), targ, w1, b1, w2, b2)}
BAD_NETS = bad_nets()

@pytest.mark.parametrize('case', BAD_NETS, ids=str)
@pytest.mark.parametrize('fn', [forward_and_backward, autograd_grads], ids=lambda f: f.__name__)
def test_nets_bad(fn, case): expect(M, fn.__name__, lambda: fn(*BAD_NETS[case]), error=True, what=case)

f3 = lambda t: (t ** 3).sum()
NUM_CASES = {'float32': (f3, r(3, 2)), 'float64': (f3, r(4, dtype=torch.float64)), 'transposed': (f3, r(3, 4).t()), 'empty': (f3, r(0, 3)),
             '0-d': (f3, torch.tensor(1.5)), 'int': (f3, torch.tensor([1, -2])), 'bool': (lambda t: t.sum(), torch.tensor([True, False])),
             'float16': (f3, r(3).half()), 'expanded (stride 0)': (f3, torch.tensor([1., 2.]).expand(3, 2))}

@pytest.mark.parametrize('case', NUM_CASES, ids=str)
def test_numerical_grad(case):
    f, x = NUM_CASES[case]
    want = (3 * x.double() ** 2) if f is f3 else torch.ones(x.shape, dtype=torch.float64)
    outcome(M, 'numerical_grad', lambda: numerical_grad(f, x), ok=lambda gr: gr.shape == x.shape and gr.dtype == torch.float64
            and torch.allclose(gr, want, rtol=1e-5, atol=1e-5), what=case)

NUM_BAD = {'x list': (f3, [1., 2.], {}), 'x numpy': (f3, np.ones(3), {}), 'x None': (f3, None, {}), 'f None': (None, r(3), {}),
           'f not callable': (3, r(3), {}), 'f returns vector': (lambda t: t * 2, r(3), {}), 'f returns float': (lambda t: 1.0, r(3), {}),
           'eps 0': (f3, r(3), dict(eps=0)), 'eps -1': (f3, r(3), dict(eps=-1e-6)), 'eps nan': (f3, r(3), dict(eps=float('nan'))),
           'eps str': (f3, r(3), dict(eps='1e-6')), 'huge x': (f3, torch.zeros(10**6), {}), 'complex': (f3, torch.ones(2, dtype=torch.complex64), {})}

@pytest.mark.parametrize('case', NUM_BAD, ids=str)
def test_numerical_grad_bad(case):
    f, x, kw = NUM_BAD[case]
    expect(M, 'numerical_grad', lambda: numerical_grad(f, x, **kw), error=True, what=case)

def test_numerical_grad_nan():
    outcome(M, 'numerical_grad', lambda: numerical_grad(lambda t: t.sum() * float('nan'), r(2)), ok=lambda gr: gr.isnan().all().item())

def rows_ok(rows, want):
    return [(r['name'], r['exact'], r['close']) for r in rows] == want

GT = {'dict': ({'a': (torch.ones(2), torch.ones(2))}, [('a', True, True)]), 'list': ([('a', torch.ones(2), torch.ones(2) + 1)], [('a', False, False)]),
      'tuple of lists': ((['a', torch.ones(2), torch.ones(2)],), [('a', True, True)]), 'empty tensors': ({'a': (r(0, 3), r(0, 3))}, [('a', True, True)]),
      'float16 vs float64': ({'a': (torch.ones(2).half(), torch.ones(2).double())}, [('a', True, True)]),
      'nan': ({'a': (NAN, NAN.clone())}, [('a', False, False)]), 'int': ({'a': (torch.ones(2, dtype=torch.int64), torch.ones(2))}, [('a', True, True)]),
      'empty dict': ({}, [])}

@pytest.mark.parametrize('case', GT, ids=str)
def test_grad_table(case):
    pairs, want = GT[case]
    outcome(M, 'grad_table', lambda: grad_table(pairs, show=False), ok=lambda rows: rows_ok(rows, want), what=case)

GT_BAD = {'None': (None, {}), 'int': (5, {}), 'str': ('abc', {}), 'tensor not pair': ({'a': torch.ones(2, 2)}, {}), 'pair too short': ([('a', torch.ones(2))], {}),
          'shapes differ': ({'a': (torch.ones(2, 3), torch.ones(3, 2))}, {}), 'None tensor': ({'a': (None, torch.ones(2))}, {}),
          'numpy': ({'a': (np.ones(2), torch.ones(2))}, {}), 'complex': ({'a': (torch.ones(2, dtype=torch.complex64),) * 2}, {}),
          'rtol nan': ({'a': (torch.ones(2), torch.ones(2))}, dict(rtol=float('nan'))), 'atol -1': ({'a': (torch.ones(2), torch.ones(2))}, dict(atol=-1)),
          'list of tensors': ([torch.ones(3)], {})}

@pytest.mark.parametrize('case', GT_BAD, ids=str)
def test_grad_table_bad(case):
    pairs, kw = GT_BAD[case]
    expect(M, 'grad_table', lambda: grad_table(pairs, show=False, **kw), error=True, what=case)

@settings(max_examples=25, deadline=None, derandomize=True)
@given(st.integers(1, 8), st.integers(1, 6), st.integers(1, 6), st.integers(0, 2**16), st.booleans())
def test_forward_and_backward_any_size(n, k, h, seed, zero):
    ts = random_net(n, k, h, seed, zero)
    cs = [t.clone() for t in ts]
    expect(M, 'forward_and_backward', lambda: (forward_and_backward(*cs), cs[2].g, cs[3].g)[1:],
           ref=lambda: (lambda d: (d['w1'], d['b1']))(ref_grads(*ts)), what=f"{n, k, h, seed, zero}")

INF, NAN_ = float('inf'), float('nan')

@pytest.mark.parametrize('upstream', ['nan', 'inf', '-inf'])
def test_relu_backwards_through_nan_and_inf(upstream):
    "Every ReLU backward of the course agrees with autograd when the upstream gradient holds NaN or inf: 0 where inp <= 0."
    from scratchnet import layers, modules
    inp = torch.tensor([[-1.0, 0.0, 2.0], [3.0, -0.5, 0.0]])
    gup = torch.tensor([[float(upstream), float(upstream), 1.0], [float(upstream), 2.0, float(upstream)]])
    x = inp.clone().requires_grad_(); torch.relu(x).backward(gup); want = x.grad
    out = torch.relu(inp); out.g = gup; i1 = inp.clone(); relu_grad(i1, out)
    assert torch.equal(i1.g.isnan(), want.isnan()) and torch.equal(i1.g.nan_to_num(), want.nan_to_num())
    r = layers.Relu(); i2 = inp.clone(); o = r(i2); o.g = gup; r.backward()
    assert torch.equal(i2.g.isnan(), want.isnan()) and torch.equal(i2.g.nan_to_num(), want.nan_to_num())
    x3 = inp.clone().requires_grad_(); modules.MyRelu.apply(x3).backward(gup)
    assert torch.equal(x3.grad.isnan(), want.isnan()) and torch.equal(x3.grad.nan_to_num(), want.nan_to_num())

def test_forward_and_backward_inf_input():
    "An inf input: the hand-written backward pass gives autograd's gradients, NaN exactly where autograd has NaN (b1.g = [inf, 0])."
    inp, targ = torch.tensor([[INF, 1.0]]), torch.tensor([0.5])
    w1, b1, w2, b2 = torch.tensor([[1.0, -1.0], [0.5, 0.5]]), torch.zeros(2), torch.tensor([[1.0], [1.0]]), torch.zeros(1)
    ts = [t.clone() for t in (inp, w1, b1, w2, b2)]
    forward_and_backward(ts[0], targ, *ts[1:])
    want = autograd_grads(inp, targ, w1, b1, w2, b2)
    for name, t in zip(['inp', 'w1', 'b1', 'w2', 'b2'], ts):
        assert torch.equal(t.g.isnan(), want[name].isnan()) and torch.equal(t.g.nan_to_num(), want[name].nan_to_num()), name
    assert torch.equal(ts[2].g, torch.tensor([INF, 0.]))
