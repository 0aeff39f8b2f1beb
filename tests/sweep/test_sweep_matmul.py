"The bad-input sweep over scratchnet.matmul: every matmul variant against `@`, and the plain-Python layer."
import math, numpy as np, torch, pytest
from hypothesis import given, settings, strategies as st
from harness import outcome
from scratchnet.matmul import neuron, check_matmul, new_result, matmul_loops, matmul_elementwise, matmul_python, dense_python

def _t(*shape, dtype=torch.float32, seed=0):
    "Seeded values of `dtype`: small integers for int types, normal floats otherwise."
    g = torch.Generator().manual_seed(seed)
    if dtype == torch.bool: return torch.rand(shape, generator=g) > 0.5
    if not dtype.is_floating_point: return torch.randint(-9 if dtype != torch.uint8 else 0, 10, shape, generator=g).to(dtype)
    return torch.randn(shape, generator=g).to(dtype)

def matmul_ref(a, b):
    "What `a @ b` gives after torch's promotion of the two dtypes."
    dt = torch.result_type(a, b)
    return a.to(dt) @ b.to(dt)

def _nan_inf():
    a = _t(3, 4); a[0, 0], a[1, 2] = float('nan'), float('inf')
    return a, _t(4, 2, seed=1)

# (what, a, b, expected): 'ref' = equal to matmul_ref, 'half' = close to it in float16, 'error' = a clear error
MATMUL_CASES = [
    ('3x4 @ 4x2', _t(3, 4), _t(4, 2, seed=1), 'ref'),
    ('float64', _t(3, 4, dtype=torch.float64), _t(4, 2, dtype=torch.float64), 'ref'),
    ('batch of 1', _t(1, 5), _t(5, 3), 'ref'),
    ('1x1 @ 1x1', _t(1, 1), _t(1, 1, seed=1), 'ref'),
    ('0 rows', _t(0, 3), _t(3, 4), 'ref'),
    ('0 columns', _t(2, 3), _t(3, 0), 'ref'),
    ('inner size 0', _t(2, 0), _t(0, 4), 'ref'),
    ('transposed (non-contiguous)', _t(4, 3).t(), _t(2, 4, seed=1).t(), 'ref'),
    ('expanded (stride 0)', _t(1, 4).expand(3, 4), _t(4, 1, seed=1).expand(4, 2), 'ref'),
    ('int64', _t(3, 4, dtype=torch.int64), _t(4, 2, dtype=torch.int64, seed=1), 'ref'),
    ('int32', _t(3, 4, dtype=torch.int32), _t(4, 2, dtype=torch.int32, seed=1), 'ref'),
    ('int32 that overflows', torch.full((2, 3), 2**20, dtype=torch.int32), torch.full((3, 2), 2**20, dtype=torch.int32), 'ref'),
    ('uint8', _t(3, 4, dtype=torch.uint8), _t(4, 2, dtype=torch.uint8, seed=1), 'ref'),
    ('int and float', _t(3, 4, dtype=torch.int64), _t(4, 2), 'ref'),
    ('float32 and float64', _t(3, 4), _t(4, 2, dtype=torch.float64), 'ref'),
    ('float16', _t(3, 4, dtype=torch.float16), _t(4, 2, dtype=torch.float16, seed=1), 'half'),
    ('NaN and inf', *_nan_inf(), 'ref'),
    ('bool', _t(3, 4, dtype=torch.bool), _t(4, 2, dtype=torch.bool, seed=1), 'error'),
    ('inner sizes differ', _t(3, 4), _t(3, 4), 'error'),
    ('1-D a', _t(4), _t(4, 2), 'error'),
    ('1-D b', _t(3, 4), _t(4), 'error'),
    ('3-D a', _t(2, 3, 4), _t(4, 2), 'error'),
    ('0-D a', torch.tensor(2.), _t(1, 2), 'error'),
    ('list a', [[1., 2.]], _t(2, 2), 'error'),
    ('numpy a', np.ones((2, 2)), _t(2, 2), 'error'),
    ('None b', _t(2, 2), None, 'error'),
    ('number b', _t(2, 2), 3.0, 'error'),
    ('meta device b', _t(2, 2), torch.zeros(2, 2, device='meta'), 'error'),
    ('absurd: 10⁷×1 @ 1×10⁷, no memory for the result', torch.zeros(1, 1).expand(10**7, 1), torch.zeros(1, 1).expand(1, 10**7), 'error'),
]

def sweep_matmul(module, f, cases=MATMUL_CASES):
    "Call `f` on every case: the reference answer, or a clear error naming `f`."
    for what, a, b, want in cases:
        name = f.__name__
        if want == 'ref': outcome(module, name, lambda: f(a, b), ref=lambda: matmul_ref(a, b), what=what)
        elif want == 'half':
            outcome(module, name, lambda: f(a, b), what=what, ok=lambda r: r.dtype == torch.float16 and r.shape == (a.shape[0], b.shape[1])
                    and torch.allclose(r.float(), a.float() @ b.float(), rtol=1e-2, atol=1e-2))
        else: outcome(module, name, lambda: f(a, b), error=True, what=what)

@pytest.mark.parametrize('f', [matmul_loops, matmul_elementwise], ids=lambda f: f.__name__)
def test_matmul_variants(f): sweep_matmul('matmul', f)

@pytest.mark.parametrize('f', [matmul_loops, matmul_elementwise], ids=lambda f: f.__name__)
def test_too_many_python_steps(f):
    big = torch.zeros(1, 1).expand(10**4, 10**4)            # no memory, but 10⁸ or more Python loop steps
    outcome('matmul', f.__name__, lambda: f(big, big), error=True, what='10⁴×10⁴ @ 10⁴×10⁴')

@settings(max_examples=25, deadline=None, derandomize=True)
@given(st.integers(0, 4), st.integers(0, 4), st.integers(0, 4), st.sampled_from([torch.float32, torch.float64, torch.int64, torch.int16]))
def test_matmul_any_shape(n, k, m, dtype):
    a, b = _t(n, k, dtype=dtype), _t(k, m, dtype=dtype, seed=1)
    for f in (matmul_loops, matmul_elementwise):
        outcome('matmul', f.__name__, lambda: f(a, b), ref=lambda: matmul_ref(a, b), what=f'{n}×{k} @ {k}×{m} {dtype}')

def test_check_matmul_and_new_result():
    a, b = _t(3, 4), _t(4, 2, dtype=torch.float64)
    outcome('matmul', 'check_matmul', lambda: check_matmul(a, b, 'check_matmul'), ref=lambda: (3, 4, 2))
    outcome('matmul', 'check_matmul', lambda: check_matmul(a, a, 'check_matmul'), error=True, what='inner sizes differ')
    outcome('matmul', 'check_matmul', lambda: check_matmul(a, None, 'check_matmul'), error=True, what='None')
    outcome('matmul', 'new_result', lambda: new_result(a, b, 'new_result'), ref=lambda: torch.zeros(3, 2, dtype=torch.float64))
    huge = torch.zeros(1, 1).expand(10**7, 10**7)
    outcome('matmul', 'new_result', lambda: new_result(huge, huge, 'new_result'), error=True, what='10⁷×10⁷ result')

X, W = torch.tensor([1., 2., 3.]), torch.tensor([0.5, -1., 2.])
NEURON_CASES = [
    ('floats', X, W, 0.5, 'ref'), ('a negative total', X, W, -10., 'ref'), ('int bias', X, W, 1, 'ref'),
    ('0-d tensor bias', X, W, torch.tensor(0.5), 'ref'), ('float64', X.double(), W.double(), 0.5, 'ref'),
    ('int tensors', torch.tensor([1, 2]), torch.tensor([3, -4]), 1, 'ref'), ('length 0', X[:0], W[:0], 0.5, 'ref'),
    ('length 1', X[:1], W[:1], 0., 'ref'), ('non-contiguous', torch.arange(6.)[::2], W, 0., 'ref'),
    ('NaN bias', X, W, float('nan'), 'error'), ('inf in x', torch.tensor([float('inf'), 1., 1.]), W, 0., 'ref'),
    ('lengths differ', X, W[:2], 0., 'error'), ('2-D x', X[None], W, 0., 'error'), ('list x', [1., 2., 3.], W, 0., 'error'),
    ('numpy w', X, np.ones(3), 0., 'error'), ('None bias', X, W, None, 'error'), ('vector bias', X, W, torch.ones(3), 'error'),
    ('string bias', X, W, '1', 'error'), ('bool bias', X, W, True, 'error'),
]

@pytest.mark.parametrize('what,x,w,b,want', NEURON_CASES, ids=[c[0] for c in NEURON_CASES])
def test_neuron(what, x, w, b, want):
    ref = lambda: torch.relu(x @ w + b)                            # torch's dot product and ReLU
    outcome('matmul', 'neuron', lambda: neuron(x, w, b), ref=ref if want == 'ref' else None, error=want == 'error', what=what)

A, B = [[1, 2], [3, 4], [5, 6]], [[1, 0, 2], [0, 1, 3]]
LIST_CASES = [
    ('ints', A, B, 'ref'), ('floats', [[0.5, 1.5]], [[2.], [4.]], 'ref'), ('NaN', [[float('nan'), 1.]], [[1.], [1.]], 'ref'),
    ('0 rows', [], B, 'ref'), ('1×1', [[3]], [[4]], 'ref'), ('tuples', ((1, 2),), ((3,), (4,)), 'ref'),
    ('ragged a', [[1, 2], [3]], B, 'error'), ('inner sizes differ', A, A, 'error'), ('tensor a', torch.ones(2, 2), B, 'error'),
    ('numpy b', A, np.ones((2, 3)), 'error'), ('None', None, B, 'error'), ('strings inside', [['a', 'b']], B, 'error'),
    ('flat list', [1, 2], B, 'error'), ('complex entries', [[1j, 1]], B, 'error'),
]

def _list_ref(a, b):
    r = np.asarray(a, dtype=float).reshape(len(a), len(b)) @ np.asarray(b, dtype=float).reshape(len(b), -1)
    return r

@pytest.mark.parametrize('what,a,b,want', LIST_CASES, ids=[c[0] for c in LIST_CASES])
def test_matmul_python(what, a, b, want):
    ok = lambda r: np.allclose(np.asarray(r, dtype=float).reshape(len(a), len(b[0]) if b else 0), _list_ref(a, b), equal_nan=True)
    outcome('matmul', 'matmul_python', lambda: matmul_python(a, b), ok=ok if want == 'ref' else None, error=want == 'error', what=what)

@pytest.mark.parametrize('what,bias,want', [('3 numbers', [10, 20, 30], 'ref'), ('2 numbers', [1, 2], 'error'), ('None', None, 'error'),
                                           ('a tensor', torch.ones(3), 'error'), ('nested', [[1, 2, 3]], 'error'), ('a number', 5, 'error')],
                         ids=lambda v: v if isinstance(v, str) else None)
def test_dense_python(what, bias, want):
    ref = lambda: (np.asarray(A) @ np.asarray(B) + np.asarray(bias)).tolist()
    outcome('matmul', 'dense_python', lambda: dense_python(A, B, bias), ref=ref if want == 'ref' else None, error=want == 'error', what=what)
