"""The bad-input sweep over scratchnet.npnet, the NumPy port: every public function, with the PyTorch versions of the
earlier notebooks (scratchnet.init, backward, layers, training) or NumPy itself as the reference."""
from fractions import Fraction
import numpy as np, torch, pytest
from hypothesis import given, settings, strategies as st
from harness import outcome, same
from scratchnet import npnet
import scratchnet.backward as tbk, scratchnet.init as tinit, scratchnet.layers as tlayers, scratchnet.training as ttrain

M = 'npnet'
pytestmark = [pytest.mark.filterwarnings('ignore:invalid value encountered:RuntimeWarning'),  # NumPy's own inf·0, as in a @ b
              pytest.mark.filterwarnings('ignore:overflow encountered:RuntimeWarning')]       # int8 @ int8 wraps, as np.matmul does
T = lambda a: torch.from_numpy(np.array(a, order='C'))            # a C-ordered copy (0-d stays 0-d)
NOT_ARRAYS = [None, 3, 2.5, [[1., 2.], [3., 4.]], torch.ones(2, 2), 'ab']
NAN, INF = float('nan'), float('inf')

def close(ref, rtol=1e-5, atol=1e-6):
    "An `ok` check: same shape and dtype as `ref`, values close (NaN where `ref` has NaN); looser for float16."
    def ok(r):
        r = r if isinstance(r, np.ndarray) or not isinstance(r, np.generic) else np.asarray(r)   # NumPy scalars: 0-d results
        if not isinstance(r, np.ndarray) or r.shape != ref.shape or r.dtype != ref.dtype: return False
        tol = dict(rtol=1e-2, atol=1e-2) if r.dtype == np.float16 else dict(rtol=rtol, atol=atol)
        return bool(np.allclose(r.astype(np.float64), ref.astype(np.float64), equal_nan=True, **tol)) if r.dtype.kind == 'f' \
            else bool(np.array_equal(r, ref))
    return ok

# ---- the four matmuls: every shape, dtype and layout against a @ b ----
MATMULS = ['matmul_loops', 'matmul_elementwise', 'matmul_broadcast', 'matmul_einsum']
rng = np.random.default_rng(0)
GOOD_PAIRS = {
    'f64 2x3@3x4': (rng.standard_normal((2, 3)), rng.standard_normal((3, 4))),
    'f32': (rng.standard_normal((2, 3)).astype(np.float32), rng.standard_normal((3, 2)).astype(np.float32)),
    'f16': (rng.standard_normal((2, 3)).astype(np.float16), rng.standard_normal((3, 2)).astype(np.float16)),
    'int64': (rng.integers(-5, 5, (3, 2)), rng.integers(-5, 5, (2, 3))),
    'int32 x f32 promotes': (rng.integers(-5, 5, (3, 2)).astype(np.int32), rng.standard_normal((2, 3)).astype(np.float32)),
    'uint8': (rng.integers(0, 3, (2, 2)).astype(np.uint8), rng.integers(0, 3, (2, 2)).astype(np.uint8)),
    'int8 wraps as @ does': (np.array([[100, 50]], np.int8), np.array([[100], [100]], np.int8)),
    'size-0 inner': (np.ones((2, 0)), np.ones((0, 3))),
    'size-0 rows': (np.ones((0, 3)), np.ones((3, 2))),
    'size-0 cols': (np.ones((2, 3)), np.ones((3, 0))),
    '1x1': (np.array([[3.]]), np.array([[4.]])),
    'batch of one': (rng.standard_normal((1, 5)), rng.standard_normal((5, 3))),
    'transposed (non-contiguous)': (rng.standard_normal((4, 2)).T, rng.standard_normal((3, 4)).T),
    'NaN and inf': (np.array([[NAN, 1.], [INF, 2.]]), np.array([[1., 0.], [2., 3.]])),
}
BAD_PAIRS = {
    '1-D a': (np.ones(3), np.ones((3, 2))),
    '3-D b': (np.ones((2, 3)), np.ones((1, 3, 2))),
    '0-D': (np.array(1.), np.ones((1, 1))),
    'inner mismatch': (np.ones((2, 3)), np.ones((4, 2))),
    'strings': (np.array([['a']]), np.ones((1, 1))),
    'objects': (np.array([[None]]), np.ones((1, 1))),
    'complex': (np.ones((1, 1), complex), np.ones((1, 1))),
    'bool (refused, as by the PyTorch versions)': (rng.random((2, 3)) > 0.5, rng.random((3, 2)) > 0.5),
    'datetime': (np.ones((1, 1), 'datetime64[D]'), np.ones((1, 1))),
    **{f'a={type(v).__name__}': (v, np.ones((2, 2))) for v in NOT_ARRAYS},
    **{f'b={type(v).__name__}': (np.ones((2, 2)), v) for v in NOT_ARRAYS},
}

@pytest.mark.parametrize('fn', MATMULS)
@pytest.mark.parametrize('case', GOOD_PAIRS, ids=str)
def test_matmul_good(fn, case):
    a, b = GOOD_PAIRS[case]
    outcome(M, fn, lambda: getattr(npnet, fn)(a, b), ok=close(np.matmul(a, b)), what=case)

@pytest.mark.parametrize('fn', MATMULS)
@pytest.mark.parametrize('case', BAD_PAIRS, ids=str)
def test_matmul_bad(fn, case):
    a, b = BAD_PAIRS[case]
    outcome(M, fn, lambda: getattr(npnet, fn)(a, b), error=True, what=case)

@settings(max_examples=25, deadline=None, derandomize=True)
@given(st.integers(0, 4), st.integers(0, 4), st.integers(0, 4), st.sampled_from(['float64', 'float32', 'int64']))
def test_matmul_parity_with_torch(n, k, m, dtype):
    g = np.random.default_rng(n * 25 + k * 5 + m)
    a, b = (g.standard_normal((n, k)) * 4).astype(dtype), (g.standard_normal((k, m)) * 4).astype(dtype)
    import scratchnet.matmul as tm
    outcome(M, 'matmul_elementwise', lambda: npnet.matmul_elementwise(a, b),
            ok=close(tm.matmul_elementwise(T(a), T(b)).numpy(), rtol=1e-4, atol=1e-5), what=f"{n, k, m} {dtype}")

@pytest.mark.parametrize('arrays, kinds, bad', [((np.ones(2), np.ones(2, int)), 'iuf', False), ((np.ones(2, bool),), 'iuf', True),
                                               ((np.array(['a']),), 'biuf', True), ((np.ones(2, complex),), 'biuf', True),
                                               ((np.ones(2, np.uint8),), 'iu', False), ((np.ones(2),), 'iu', True)], ids=str)
def test_check_numbers(arrays, kinds, bad):
    outcome(M, 'check_numbers', lambda: npnet.check_numbers('check_numbers', kinds, **{f'a{i}': a for i, a in enumerate(arrays)}),
            ok=lambda r: r is None, error=bad)

@pytest.mark.parametrize('sizes', [(2, 3), (3, 2), (2, 3, 4), (2, 2)])
def test_check_matmul_bad_name_types(sizes):
    a, b = np.ones(sizes[:2]), np.ones(sizes[-2:])
    fits = len(sizes) == 2 and sizes[0] == sizes[1] or sizes == (2, 3, 4)
    outcome(M, 'check_matmul', lambda: npnet.check_matmul(a, b, 'check_matmul'), ok=lambda r: isinstance(r, dict),
            error=not fits, what=str(sizes))

# ---- lin and relu, against scratchnet.init ----
LIN_GOOD = {
    'f64': (rng.standard_normal((4, 3)), rng.standard_normal((3, 2)), rng.standard_normal(2)),
    'f32': tuple(a.astype(np.float32) for a in (rng.standard_normal((4, 3)), rng.standard_normal((3, 2)), rng.standard_normal(2))),
    'batch 1': (rng.standard_normal((1, 3)), rng.standard_normal((3, 2)), rng.standard_normal(2)),
    'empty batch': (np.ones((0, 3)), np.ones((3, 2)), np.ones(2)),
    'transposed x': (rng.standard_normal((3, 4)).T, rng.standard_normal((3, 2)), rng.standard_normal(2)),
    'NaN': (np.array([[NAN, 1.]]), np.ones((2, 2)), np.zeros(2)),
    'f32 x, f64 w: NumPy promotes': (rng.standard_normal((2, 3)).astype(np.float32), rng.standard_normal((3, 2)), rng.standard_normal(2)),
}
LIN_BAD = {
    'b 2-D': (np.ones((4, 3)), np.ones((3, 2)), np.ones((1, 2))),
    'b wrong size': (np.ones((4, 3)), np.ones((3, 2)), np.ones(3)),
    'x 1-D': (np.ones(3), np.ones((3, 2)), np.ones(2)),
    'x 3-D': (np.ones((2, 4, 3)), np.ones((3, 2)), np.ones(2)),
    'inner mismatch': (np.ones((4, 5)), np.ones((3, 2)), np.ones(2)),
    'int64 (refused, as by PyTorch\'s lin)': (rng.integers(-3, 3, (2, 3)), rng.integers(-3, 3, (3, 2)), rng.integers(-3, 3, 2)),
    'int b': (np.ones((4, 3)), np.ones((3, 2)), np.ones(2, int)),
    **{f'x={type(v).__name__}': (v, np.ones((2, 2)), np.ones(2)) for v in NOT_ARRAYS},
    **{f'b={type(v).__name__}': (np.ones((2, 2)), np.ones((2, 2)), v) for v in NOT_ARRAYS},
}

@pytest.mark.parametrize('case', LIN_GOOD, ids=str)
def test_lin_good(case):
    x, w, b = LIN_GOOD[case]
    # the torch lin, given one dtype, is the reference for the values; NumPy's promotion gives the dtype
    dt = np.result_type(x, w, b)
    ref = tinit.lin(*[T(a.astype(dt)) for a in (x, w, b)]).numpy()
    assert outcome(M, 'lin', lambda: npnet.lin(x, w, b), ok=close(ref), what=case) == 'correct'

@pytest.mark.parametrize('case', LIN_BAD, ids=str)
def test_lin_bad(case):
    outcome(M, 'lin', lambda: npnet.lin(*LIN_BAD[case]), error=True, what=case)

@pytest.mark.parametrize('x', [np.array([-2., 0., 3.]), np.float32([-1, 1]), np.float16([-1, 1]),
                               np.array([NAN, -INF, INF]), np.zeros((0, 3)), np.ones((3, 4)).T, np.array(-1.5)], ids=repr)
def test_relu_good(x):
    assert outcome(M, 'relu', lambda: npnet.relu(x), ok=close(np.maximum(x, x.dtype.type(0))), what=repr(x)) == 'correct'
    if x.dtype.kind == 'f' and x.dtype != np.float16:   # the PyTorch relu agrees in value (it takes floating point only)
        outcome(M, 'relu', lambda: npnet.relu(x), ok=close(tinit.relu(T(x)).numpy().astype(x.dtype)), what='vs torch ' + repr(x))

@pytest.mark.parametrize('x', [*NOT_ARRAYS, np.array([[-1, 2]]), np.array([True]), np.array(['a'])], ids=repr)
def test_relu_bad(x): outcome(M, 'relu', lambda: npnet.relu(x), error=True, what=repr(x))

# ---- init_weights ----
@pytest.mark.parametrize('args', [dict(n_in=0, n_out=2), dict(n_in=2, n_out=-1), dict(n_in=2.5, n_out=2), dict(n_in=True, n_out=2),
                                  dict(n_in=None, n_out=2), dict(n_in=2**20, n_out=2**20), dict(n_in=3, n_out=2, kind='he'),
                                  dict(n_in=3, n_out=2, kind=None), dict(n_in=3, n_out=2, rng=-1), dict(n_in=3, n_out=2, rng=1.5),
                                  dict(n_in=3, n_out=2, rng=torch.Generator()), dict(n_in=3, n_out=2, dtype=np.int64),
                                  dict(n_in=3, n_out=2, dtype='float32'), dict(n_in=3, n_out=2, dtype=None)], ids=str)
def test_init_weights_bad(args):
    outcome(M, 'init_weights', lambda: npnet.init_weights(**args), error=True, what=str(args))

@pytest.mark.parametrize('args', [dict(n_in=1, n_out=1), dict(n_in=3, n_out=2, rng=7), dict(n_in=3, n_out=2, rng=np.int64(7)),
                                  dict(n_in=np.int32(3), n_out=2, rng=7, dtype=np.float32), dict(n_in=3, n_out=2, kind='normal', rng=0)], ids=str)
def test_init_weights_good(args):
    rng = args.get('rng'); kind = args.get('kind', 'kaiming'); dtype = args.get('dtype', np.float64)
    std = {'normal': 1., 'xavier': 1 / np.sqrt(args['n_in']), 'kaiming': np.sqrt(2 / args['n_in'])}[kind]
    want = lambda: (np.random.default_rng(rng).standard_normal((int(args['n_in']), args['n_out']), dtype=dtype) * std).astype(dtype)
    outcome(M, 'init_weights', lambda: npnet.init_weights(**args), ok=close(want()) if rng is not None else
            lambda r: r.shape == (args['n_in'], args['n_out']) and r.dtype == dtype, what=str(args))

# ---- the loss and the gradients, against scratchnet.backward ----
MSE_GOOD = {
    '(n, 1)': (rng.standard_normal((4, 1)), rng.standard_normal(4)),
    '(n,)': (rng.standard_normal(4), rng.standard_normal(4)),
    'batch 1': (np.array([[3.]]), np.array([1.])),
    'f32': (rng.standard_normal((3, 1)).astype(np.float32), rng.standard_normal(3).astype(np.float32)),
    'NaN': (np.array([[NAN], [1.]]), np.array([1., 1.])),
    'inf': (np.array([[INF], [1.]]), np.array([1., 1.])),
    'non-contiguous': (rng.standard_normal((1, 4)).T, rng.standard_normal((4, 2))[:, 0]),
}
MSE_BAD = {
    '(n, 2)': (np.ones((3, 2)), np.ones(3)), 'targ (n, 1)': (np.ones((3, 1)), np.ones((3, 1))), 'n mismatch': (np.ones((3, 1)), np.ones(4)),
    'empty': (np.ones((0, 1)), np.ones(0)), '3-D': (np.ones((3, 1, 1)), np.ones(3)), '0-D': (np.array(1.), np.array(1.)),
    'bool': (np.ones((2, 1), bool), np.ones(2, bool)), 'strings': (np.array(['a']), np.array(['b'])),
    'int targets': (rng.standard_normal((3, 1)), np.array([1, 0, 2])), 'datetimes': (np.ones((1, 1), 'datetime64[s]'), np.ones(1)),
    'uint8 0 and 16 (wrapped to 0.0)': (np.array([[0]], np.uint8), np.array([16], np.uint8)),
    'int16 0 and 600 (wrapped to 32,320)': (np.array([[0]], np.int16), np.array([600], np.int16)),
    **{f'output={type(v).__name__}': (v, np.ones(2)) for v in NOT_ARRAYS},
    **{f'targ={type(v).__name__}': (np.ones((2, 1)), v) for v in NOT_ARRAYS},
}

def torch_mse_grad(o, y):
    t = T(o); tbk.mse_grad(t, T(y)); return t.g.numpy()

@pytest.mark.parametrize('case', MSE_GOOD, ids=str)
def test_mse_good(case):
    o, y = MSE_GOOD[case]
    ref = np.float64(((o.reshape(-1) - y) ** 2).mean())
    outcome(M, 'mse', lambda: npnet.mse(o, y), ok=lambda r: same(float(r), float(ref)), what=case)
    if o.dtype == y.dtype:
        outcome(M, 'mse', lambda: npnet.mse(o, y), ok=lambda r: same(float(r), tbk.mse(T(o), T(y)).item(), rtol=1e-5), what='vs torch ' + case)
        outcome(M, 'mse_grad', lambda: npnet.mse_grad(o, y), ok=close(torch_mse_grad(o, y)), what=case)

@pytest.mark.parametrize('fn', ['mse', 'mse_grad'])
@pytest.mark.parametrize('case', MSE_BAD, ids=str)
def test_mse_bad(fn, case):
    outcome(M, fn, lambda: getattr(npnet, fn)(*MSE_BAD[case]), error=True, what=case)

def torch_relu_grad(inp, out_g):
    ti, to = T(inp), torch.zeros(inp.shape, dtype=torch.float64); to.g = T(out_g); tbk.relu_grad(ti, to); return ti.g.numpy()

@pytest.mark.parametrize('inp, out_g', [(np.array([[-1., 0.], [0.5, 2.]]), np.ones((2, 2))), (np.zeros((0, 3)), np.zeros((0, 3))),
                                        (rng.standard_normal((3, 2)).T, rng.standard_normal((2, 3))), (np.array([NAN, 1.]), np.array([1., 1.]))],
                         ids=['2x2', 'empty', 'transposed', 'NaN'])
def test_relu_grad_good(inp, out_g):
    outcome(M, 'relu_grad', lambda: npnet.relu_grad(inp, out_g), ok=close(torch_relu_grad(inp, out_g)))

@pytest.mark.parametrize('inp, out_g', [(np.ones(3), np.ones(4)), (np.ones((2, 3)), np.ones((3, 2))), (None, np.ones(2)),
                                        (np.ones(2), [1., 1.]), (torch.ones(2), np.ones(2))], ids=str)
def test_relu_grad_bad(inp, out_g): outcome(M, 'relu_grad', lambda: npnet.relu_grad(inp, out_g), error=True)

def torch_lin_grad(inp, out_g, w, b):
    ti, tw, tb, to = T(inp), T(w), T(b), torch.zeros(out_g.shape, dtype=torch.float64); to.g = T(out_g)
    tbk.lin_grad(ti, to, tw, tb); return ti.g.numpy(), tw.g.numpy(), tb.g.numpy()

@settings(max_examples=30, deadline=None, derandomize=True)
@given(st.integers(0, 4), st.integers(1, 4), st.integers(1, 4), st.booleans())
def test_lin_grad_shapes(n, i, o, transposed):
    g = np.random.default_rng(n * 16 + i * 4 + o)
    inp = g.standard_normal((i, n)).T if transposed else g.standard_normal((n, i))
    args = (inp, g.standard_normal((n, o)), g.standard_normal((i, o)), g.standard_normal(o))
    outcome(M, 'lin_grad', lambda: npnet.lin_grad(*args), ok=lambda r: all(close(x)(y) for x, y in zip(torch_lin_grad(*args), r)),
            what=f"{n, i, o}")
    outcome(M, 'lin_grad', lambda: npnet.lin_grad(*args, input_grad=False)[0], ok=lambda r: r is None)

@pytest.mark.parametrize('args', [(np.ones((2, 3)), np.ones((2, 5)), np.ones((3, 4)), np.ones(4)),
                                  (np.ones((2, 3)), np.ones((3, 4)), np.ones((3, 4)), np.ones(4)),
                                  (np.ones((2, 3)), np.ones((2, 4)), np.ones((3, 4)), np.ones((1, 4))),
                                  (np.ones(3), np.ones(4), np.ones((3, 4)), np.ones(4)),
                                  (np.ones((2, 3)), torch.ones(2, 4), np.ones((3, 4)), np.ones(4)),
                                  (None, np.ones((2, 4)), np.ones((3, 4)), np.ones(4))], ids=lambda a: str([np.shape(x) if x is not None else None for x in a]))
def test_lin_grad_bad(args): outcome(M, 'lin_grad', lambda: npnet.lin_grad(*args), error=True)

def net(bs, n_in, nh, g):
    return (g.standard_normal((bs, n_in)), g.standard_normal(bs), g.standard_normal((n_in, nh)), g.standard_normal(nh),
            g.standard_normal((nh, 1)), g.standard_normal(1))

@settings(max_examples=25, deadline=None, derandomize=True)
@given(st.integers(1, 6), st.integers(1, 5), st.integers(1, 5), st.integers(0, 1000))
def test_forward_and_backward_parity(bs, n_in, nh, seed):
    args = net(bs, n_in, nh, np.random.default_rng(seed))
    def ref():
        t = [T(a) for a in args]
        loss = tbk.forward_and_backward(*t)
        return loss.item(), dict(inp=t[0].g.numpy(), w1=t[2].g.numpy(), b1=t[3].g.numpy(), w2=t[4].g.numpy(), b2=t[5].g.numpy())
    outcome(M, 'forward_and_backward', lambda: npnet.forward_and_backward(*args),
            ok=lambda r: same((float(r[0]), r[1]), ref(), rtol=1e-8, atol=1e-10), what=f"{bs, n_in, nh}")

@pytest.mark.parametrize('case', ['empty batch', 'w2 two outputs', 'targ 2-D', 'b2 wrong', 'bool', 'list', 'tensor', 'None',
                                  'int8 (a negative loss before)', 'int64 w1', 'int targ', 'strings'])
def test_forward_and_backward_bad(case):
    x, y, w1, b1, w2, b2 = net(3, 4, 2, np.random.default_rng(0))
    args = dict(x=x, y=y, w1=w1, b1=b1, w2=w2, b2=b2)
    args.update({'empty batch': dict(x=np.ones((0, 4)), y=np.ones(0)), 'w2 two outputs': dict(w2=np.ones((2, 2)), b2=np.ones(2)),
                 'targ 2-D': dict(y=y[:, None]), 'b2 wrong': dict(b2=np.ones(2)), 'bool': dict(x=x > 0),
                 'list': dict(x=x.tolist()), 'tensor': dict(w1=T(w1)), 'None': dict(y=None), 'int64 w1': dict(w1=np.ones((4, 2), int)),
                 'int8 (a negative loss before)': {k: np.array(v, np.int8) for k, v in
                                                   dict(x=[[100]], y=[-100], w1=[[100]], b1=[100], w2=[[100]], b2=[1]).items()},
                 'int targ': dict(y=np.array([1, 0, 1])), 'strings': dict(x=x.astype(str))}[case])
    outcome(M, 'forward_and_backward', lambda: npnet.forward_and_backward(*args.values()), error=True, what=case)

# ---- the layer classes and the model, against scratchnet.layers and scratchnet.training ----
@settings(max_examples=20, deadline=None, derandomize=True)
@given(st.integers(1, 6), st.integers(1, 5), st.integers(1, 5), st.integers(0, 1000))
def test_model_parity(bs, n_in, nh, seed):
    x, y, *ps = net(bs, n_in, nh, np.random.default_rng(seed))
    def ours():
        m = npnet.Model(*[p.copy() for p in ps]); loss = m(x, y); xg = m.backward(); m.step(0.1)
        return float(loss), xg, m.params
    def ref():
        tps = [T(p.copy()) for p in ps]; tx = T(x.copy()); m = tlayers.Model(*tps); loss = m(tx, T(y)); m.backward()
        return loss.item(), tx.g.numpy(), [(p - 0.1 * p.g).numpy() for p in tps]
    outcome(M, 'Model', ours, ok=lambda r: same(r, ref(), rtol=1e-8, atol=1e-10), what=f"{bs, n_in, nh}")

@settings(max_examples=20, deadline=None, derandomize=True)
@given(st.integers(1, 6), st.integers(1, 6), st.integers(0, 1000), st.sampled_from([1., 1000.]))
def test_cross_entropy_parity(bs, k, seed, scale):
    g = np.random.default_rng(seed)
    logits, labels = g.standard_normal((bs, k)) * scale, g.integers(0, k, bs)
    def ours(): ce = npnet.CrossEntropy(); loss = ce(logits, labels); return float(loss), ce.backward()
    def ref():
        t = T(logits).requires_grad_(); loss = torch.nn.functional.cross_entropy(t, T(labels)); loss.backward()
        return loss.item(), t.grad.numpy()
    outcome(M, 'CrossEntropy', ours, ok=lambda r: same(r, ref(), rtol=1e-8, atol=1e-10 * scale), what=f"{bs, k} ×{scale}")
    outcome(M, 'CrossEntropy', lambda: float(npnet.CrossEntropy()(logits, labels)),
            ok=lambda r: same(r, ttrain.cross_entropy(T(logits), T(labels)).item(), rtol=1e-8, atol=1e-10 * scale), what='vs training')

@pytest.mark.parametrize('case', ['uint8 labels', 'int32 labels', 'float32 logits', 'batch 1', 'transposed'])
def test_cross_entropy_good(case):
    logits, labels = np.array([[0., 5, 1], [3, 1, 2]]), np.array([1, 0])
    logits, labels = {'uint8 labels': (logits, labels.astype(np.uint8)),
                      'int32 labels': (logits, labels.astype(np.int32)), 'float32 logits': (logits.astype(np.float32), labels),
                      'batch 1': (logits[:1], labels[:1]), 'transposed': (np.ascontiguousarray(logits.T).T, labels)}[case]
    ref = torch.nn.functional.cross_entropy(T(logits.astype(np.float64)), T(labels.astype(np.int64))).item()
    outcome(M, 'CrossEntropy', lambda: float(npnet.CrossEntropy()(logits, labels)), ok=lambda r: same(r, ref, rtol=1e-5), what=case)

@pytest.mark.parametrize('case', ['label too big', 'negative label', 'float labels', 'bool labels', '2-D labels', 'empty', 'no classes',
                                  '1-D logits', 'n mismatch', 'logits list', 'labels None', 'logits tensor', 'string logits',
                                  'int logits', 'uint8 logits (wrapped to a float16 inf)'])
def test_cross_entropy_bad(case):
    logits, labels = np.ones((2, 3)), np.array([0, 2])
    logits, labels = {'label too big': (logits, np.array([0, 3])), 'negative label': (logits, np.array([-1, 0])),
                      'float labels': (logits, labels.astype(float)), 'bool labels': (logits, labels > 0),
                      '2-D labels': (logits, labels[:, None]), 'empty': (np.ones((0, 3)), np.zeros(0, int)),
                      'no classes': (np.ones((2, 0)), labels), '1-D logits': (np.ones(3), labels), 'n mismatch': (logits, np.array([0])),
                      'logits list': (logits.tolist(), labels), 'labels None': (logits, None), 'logits tensor': (torch.ones(2, 3), labels),
                      'string logits': (np.array([['a', 'b', 'c']] * 2), labels), 'int logits': (logits.astype(np.int64), labels),
                      'uint8 logits (wrapped to a float16 inf)': (np.array([[0, 200, 1]] * 2, np.uint8), labels)}[case]
    outcome(M, 'CrossEntropy', lambda: npnet.CrossEntropy()(logits, labels), error=True, what=case)

def small_model(loss=None):
    g = np.random.default_rng(1)
    return npnet.Model(g.standard_normal((3, 4)), np.zeros(4), g.standard_normal((4, 2 if loss else 1)), np.zeros(2 if loss else 1), loss=loss)

@pytest.mark.parametrize('case', ['w2 rows', 'b1 size', 'loss from torch', 'loss a class', 'w1 list', 'b2 None', 'w1 3-D'])
def test_model_bad_construction(case):
    g = dict(w1=np.ones((3, 2)), b1=np.ones(2), w2=np.ones((2, 1)), b2=np.ones(1), loss=None)
    g.update({'w2 rows': dict(w2=np.ones((3, 1))), 'b1 size': dict(b1=np.ones(3)), 'loss from torch': dict(loss=tlayers.Mse()),
              'loss a class': dict(loss=npnet.Mse), 'w1 list': dict(w1=[[1., 2.]] * 3), 'b2 None': dict(b2=None),
              'w1 3-D': dict(w1=np.ones((1, 3, 2)))}[case])
    outcome(M, 'Model', lambda: npnet.Model(**g), error=True, what=case)

@pytest.mark.parametrize('case', ['x columns', 'targ length', 'x 1-D', 'x list', 'targ None', 'x tensor'])
def test_model_bad_call(case):
    x, y = np.ones((5, 3)), np.ones(5)
    x, y = {'x columns': (np.ones((5, 4)), y), 'targ length': (x, np.ones(4)), 'x 1-D': (np.ones(3), y),
            'x list': (x.tolist(), y), 'targ None': (x, None), 'x tensor': (torch.ones(5, 3), y)}[case]
    outcome(M, 'Model', lambda: small_model()(x, y), error=True, what=case)

@pytest.mark.parametrize('lr', [None, 'x', float('nan'), [0.1]], ids=repr)
def test_model_step_bad_lr(lr):
    m = small_model(); m(np.ones((2, 3)), np.ones(2)); m.backward()
    outcome(M, 'step', lambda: m.step(lr), error=True, what=repr(lr))

@pytest.mark.parametrize('layer', ['Lin', 'Relu', 'Mse'])
def test_layers_match_functions(layer):
    g = np.random.default_rng(2)
    x, w, b, y = g.standard_normal((3, 2)), g.standard_normal((2, 1)), g.standard_normal(1), g.standard_normal(3)
    call = {'Lin': lambda: npnet.Lin(w, b)(x), 'Relu': lambda: npnet.Relu()(x), 'Mse': lambda: npnet.Mse()(x[:, :1], y)}[layer]
    ref = {'Lin': lambda: npnet.lin(x, w, b), 'Relu': lambda: npnet.relu(x), 'Mse': lambda: npnet.mse(x[:, :1], y)}[layer]
    outcome(M, layer, call, ref=ref)

@pytest.mark.parametrize('w, b', [(np.ones(3), np.ones(3)), (np.ones((3, 2)), np.ones(3)), (None, np.ones(2)), (np.ones((3, 2)), [1., 1.])], ids=str)
def test_lin_layer_bad(w, b): outcome(M, 'Lin', lambda: npnet.Lin(w, b), error=True)

# ---- accuracy and fit ----
ACC_GOOD = {
    '(n,) labels': (np.array([[0., 1.], [2., 1.]]), np.array([1, 1])),
    '(n, 1) labels, perfect': (np.array([[0., 1.], [2., 1.]]), np.array([[1], [0]])),
    'batch 1': (np.array([[0., 1.]]), np.array([1])),
    'float labels': (np.array([[0., 1.], [2., 1.]]), np.array([1., 0.])),
    'one class': (np.array([[3.], [1.]]), np.array([0, 0])),
    'transposed': (np.ascontiguousarray(np.array([[0., 1.], [2., 1.]]).T).T, np.array([1, 0])),
}

@pytest.mark.parametrize('case', ACC_GOOD, ids=str)
def test_accuracy_good(case):
    logits, targ = ACC_GOOD[case]
    ref = ttrain.accuracy(T(logits), T(targ.reshape(-1))).item()
    outcome(M, 'accuracy', lambda: npnet.accuracy(logits, targ), ok=lambda r: same(r, ref), what=case)

@pytest.mark.parametrize('case', ['(n, 2) labels', 'n mismatch', 'empty', 'no classes', '1-D logits', 'logits list', 'labels None', 'tensor',
                                  'string labels (0.0 before)', 'string logits', 'bool labels', 'datetime labels', 'object labels'])
def test_accuracy_bad(case):
    logits, targ = np.ones((2, 3)), np.array([0, 1])
    logits, targ = {'(n, 2) labels': (logits, np.ones((2, 2))), 'n mismatch': (logits, np.array([0])), 'empty': (np.ones((0, 3)), np.ones(0)),
                    'no classes': (np.ones((2, 0)), targ), '1-D logits': (np.ones(3), targ), 'logits list': (logits.tolist(), targ),
                    'labels None': (logits, None), 'tensor': (torch.ones(2, 3), targ), 'string labels (0.0 before)': (logits, np.array(['0', '1'])),
                    'string logits': (np.array([['a', 'b', 'c']] * 2), targ), 'bool labels': (logits, targ > 0),
                    'datetime labels': (logits, np.ones(2, 'datetime64[D]')), 'object labels': (logits, np.array([0, 1], object))}[case]
    outcome(M, 'accuracy', lambda: npnet.accuracy(logits, targ), error=True, what=case)

def test_fit_matches_manual_steps():
    g = np.random.default_rng(3)
    x, y = g.standard_normal((5, 3)), g.standard_normal(5)
    def manual():
        m, losses, order = small_model(), [], np.random.default_rng(0).permutation(5)
        for i in range(0, 5, 2):
            b = order[i:i + 2]; losses.append(float(m(x[b], y[b]))); m.backward(input_grad=False); m.step(0.1)
        return losses
    outcome(M, 'fit', lambda: npnet.fit(small_model(), x, y, epochs=1, lr=0.1, bs=2, rng=0), ok=lambda r: same(r, manual()))
    outcome(M, 'fit', lambda: npnet.fit(small_model(), x[:1], y[:1], epochs=0, rng=0), ref=lambda: [])
    outcome(M, 'fit', lambda: npnet.fit(small_model(), x, y, epochs=1, bs=10**12, rng=0), ok=lambda r: len(r) == 1)

@pytest.mark.parametrize('case', ['model None', 'torch model', 'x columns', 'y length', 'empty', 'x list', 'epochs huge', 'epochs -1',
                                  'epochs float', 'bs 0', 'bs None', 'lr nan', 'lr str', 'rng -1', 'rng str', 'int64 weights', 'int64 x',
                                  'int labels for Mse', 'lr inf', 'lr 10**400', 'string x'])
def test_fit_bad(case):
    x, y = np.ones((5, 3)), np.ones(5)
    args = dict(model=small_model(), x=x, y=y)
    if case == 'int64 weights': args['model'].layers[0].w = np.ones((3, 4), np.int64)    # set after the model was built
    args.update({'model None': dict(model=None), 'torch model': dict(model=tlayers.Model(torch.ones(3, 2), torch.ones(2), torch.ones(2, 1), torch.ones(1))),
                 'x columns': dict(x=np.ones((5, 4))), 'y length': dict(y=np.ones(4)), 'empty': dict(x=np.ones((0, 3)), y=np.ones(0)),
                 'x list': dict(x=x.tolist()), 'epochs huge': dict(epochs=10**9), 'epochs -1': dict(epochs=-1), 'epochs float': dict(epochs=1.5),
                 'bs 0': dict(bs=0), 'bs None': dict(bs=None), 'lr nan': dict(lr=float('nan')), 'lr str': dict(lr='0.1'),
                 'rng -1': dict(rng=-1), 'rng str': dict(rng='seed'), 'int64 weights': {}, 'int64 x': dict(x=np.ones((5, 3), int)),
                 'int labels for Mse': dict(y=np.ones(5, int)), 'lr inf': dict(lr=INF), 'lr 10**400': dict(lr=10**400),
                 'string x': dict(x=x.astype(str))}[case])
    outcome(M, 'fit', lambda: npnet.fit(**args), error=True, what=case)

@pytest.mark.parametrize('lr', [Fraction(1, 10), np.float32(0.1), np.float64(0.1), 1, np.int64(1)], ids=repr)
def test_fit_any_real_lr(lr):
    g = np.random.default_rng(3); x, y = g.standard_normal((4, 3)), g.standard_normal(4)
    outcome(M, 'fit', lambda: npnet.fit(small_model(), x, y, epochs=2, lr=lr, bs=2, rng=0),
            ok=lambda r: same(r, npnet.fit(small_model(), x, y, epochs=2, lr=float(lr), bs=2, rng=0)), what=repr(lr))

def test_npnet_never_imports_torch():
    import subprocess, sys
    code = "import sys, scratchnet.npnet; print('torch' in sys.modules)"
    outcome(M, 'npnet', lambda: subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, check=True).stdout.strip(),
            ref=lambda: 'False')


# ---- the order of calls: ValueError, as on the PyTorch side (scratchnet.layers) ----
def value_error_naming(fn, call, what=''):
    "A clear error naming `fn` that is a ValueError, as the PyTorch side raises for the same mistake."
    outcome(M, fn, lambda: raised(call, Exception), ok=lambda e: type(e) is ValueError and fn in str(e), what=what)

def raised(call, kind):
    try: return call()
    except kind as e: return e

def test_calls_out_of_order():
    value_error_naming('Model.step', lambda: small_model().step(0.1), 'step before backward (RuntimeError before)')
    value_error_naming('Model.grads', lambda: small_model().grads(), 'grads before backward')
    value_error_naming('Model.backward', lambda: small_model().backward(), 'backward before a call')
    value_error_naming('Relu.backward', lambda: npnet.Relu().backward(np.ones(2)), 'a layer never called')
    value_error_naming('Mse.backward', lambda: npnet.Mse().backward(), 'a loss never called')
    m = small_model(); m(np.ones((2, 3)), np.ones(2))
    value_error_naming('Model.step', lambda: m.step(0.1), 'step after a call, before backward')
    relu = npnet.Relu(); relu(np.ones((2, 3)))
    value_error_naming('Relu.backward', lambda: relu.backward(np.ones((3, 2))), 'out_g of the wrong shape')
    outcome(M, 'Relu.backward', lambda: relu.backward(None), error=True, what='no out_g for a layer that is not a loss')
    outcome(M, 'Relu.backward', lambda: relu.backward(np.ones((2, 3), int)), error=True, what='integer out_g')
    m.backward(); p = m.params[0]; m.layers[0].w = np.broadcast_to(p, p.shape)
    outcome(M, 'Model.step', lambda: m.step(0.1), error=True, what='read-only parameters')

# ---- NaN and inf through ReLU's backward: the gradient is exactly 0 where the input is <= 0, as autograd gives ----
def autograd_net(args):
    ts = [torch.tensor(a, requires_grad=True) for a in args]
    ((torch.relu(ts[0] @ ts[2] + ts[3]) @ ts[4] + ts[5])[:, 0] - ts[1]).pow(2).mean().backward()
    return dict(inp=ts[0].grad.numpy(), w1=ts[2].grad.numpy(), b1=ts[3].grad.numpy(), w2=ts[4].grad.numpy(), b2=ts[5].grad.numpy())

INF_NETS = {
    'inf input: b1.g = [inf, 0], not [inf, nan]': ([[INF]], [0.], [[1., -1.]], [0., 0.], [[1.], [1.]], [0.]),
    '-inf input': ([[-INF]], [0.], [[1., -1.]], [0., 0.], [[1.], [1.]], [0.]),
    'inf target': ([[1.]], [INF], [[1., -1.]], [0., 0.], [[1.], [1.]], [0.]),
    'inf bias, a dead unit': ([[1.]], [0.], [[1., -1.]], [0., -INF], [[1.], [1.]], [0.]),
    'huge weights overflow to inf': ([[1e200]], [0.], [[1e200, -1e200]], [0., 0.], [[1.], [1.]], [0.]),
}

@pytest.mark.parametrize('case', INF_NETS, ids=str)
def test_inf_through_relu_matches_autograd(case):
    args = [np.array(a, float) for a in INF_NETS[case]]
    outcome(M, 'forward_and_backward', lambda: npnet.forward_and_backward(*args)[1], ref=lambda: autograd_net(args), what=case)
    x, _, *ps = args
    def layers():
        m = npnet.Model(*[p.copy() for p in ps]); m(x, args[1]); xg = m.backward()
        return dict(inp=xg, **m.grads())
    outcome(M, 'Model', layers, ref=lambda: autograd_net(args), what=case)

@pytest.mark.parametrize('inp, out_g', [([1., -1., 0.], [INF, INF, INF]), ([1., -1., 0.], [NAN, NAN, NAN]), ([-INF, INF, 0.], [INF, -INF, NAN]),
                                        ([5e-324, -5e-324, -0.], [INF, INF, INF])], ids=str)
def test_relu_grad_inf_matches_autograd(inp, out_g):
    inp, out_g = np.array(inp), np.array(out_g)
    def autograd():
        t = torch.tensor(inp, requires_grad=True); torch.relu(t).backward(torch.tensor(out_g)); return t.grad.numpy()
    outcome(M, 'relu_grad', lambda: npnet.relu_grad(inp, out_g), ref=autograd, what=f"{inp} {out_g}")
    def layer(): r = npnet.Relu(); r(inp); return r.backward(out_g)
    outcome(M, 'Relu', layer, ref=autograd, what=f"{inp} {out_g}")

# ---- every NumPy dtype in every array argument: the dtypes the PyTorch twin accepts give its answer, the rest a TypeError ----
DTYPES = ['bool', 'int8', 'int16', 'int32', 'int64', 'uint8', 'uint16', 'uint32', 'uint64', 'float16', 'float32', 'float64', 'longdouble',
          'complex64', 'complex128', 'U3', 'S3', 'datetime64[D]', 'timedelta64[s]', 'object']

def array_of(dt, shape, seed=0):
    "Small values of dtype `dt`: normal floats, integers 0, 1 or 2, or, for the kinds that hold no numbers, 0, 1, 2, ... converted"
    g, dt = np.random.default_rng(seed), np.dtype(dt)
    if dt.kind == 'f': return g.standard_normal(shape).astype(dt)
    if dt.kind in 'iu': return g.integers(0, 3, shape).astype(dt)
    if dt.kind == 'b': return g.standard_normal(shape) > 0
    return np.arange(int(np.prod(shape))).reshape(shape).astype(dt)

def f64(*arrays): return [T(a.astype(np.float64)) for a in arrays]
def rt(*arrays): return np.result_type(*arrays)

# name: (argument shapes, the kinds each argument may hold, the call, its reference (NumPy's own operation, or the PyTorch twin
# given float64 copies), and the dtype of the result (NumPy's promotion; None: a Python float or a list of them))
GRID = {
    **{f: ([(2, 3), (3, 2)], ['iuf', 'iuf'], getattr(npnet, f), np.matmul, rt) for f in MATMULS},
    'lin': ([(2, 3), (3, 2), (2,)], ['f'] * 3, npnet.lin, lambda *a: tinit.lin(*f64(*a)).numpy(), rt),
    'relu': ([(2, 3)], ['f'], npnet.relu, lambda a: tinit.relu(*f64(a)).numpy(), rt),
    'mse': ([(3, 1), (3,)], ['f', 'f'], npnet.mse, lambda o, y: tbk.mse(*f64(o, y)).numpy(), rt),
    'mse_grad': ([(3, 1), (3,)], ['f', 'f'], npnet.mse_grad, lambda o, y: torch_mse_grad(o.astype(float), y.astype(float)), rt),
    'relu_grad': ([(2, 3), (2, 3)], ['f', 'f'], npnet.relu_grad, lambda i, g: torch_relu_grad(i.astype(float), g.astype(float)), rt),
    'lin_grad': ([(2, 3), (2, 2), (3, 2), (2,)], ['f'] * 4, npnet.lin_grad, lambda *a: torch_lin_grad(*[x.astype(float) for x in a]),
                 lambda inp, out_g, w, b: (rt(out_g, w), rt(inp, out_g), out_g.dtype)),
    'forward_and_backward': ([(2, 3), (2,), (3, 2), (2,), (2, 1), (1,)], ['f'] * 6, lambda *a: npnet.forward_and_backward(*a)[1]['w1'],
                             lambda *a: autograd_net([x.astype(float) for x in a])['w1'], rt),
    'CrossEntropy': ([(2, 3), (2,)], ['f', 'iu'], lambda x, y: npnet.CrossEntropy()(x, y),
                     lambda x, y: torch.nn.functional.cross_entropy(T(x.astype(float)), T(y.astype(np.int64))).numpy(), lambda x, y: x.dtype),
    'accuracy': ([(2, 3), (2,)], ['iuf', 'iuf'], npnet.accuracy, lambda x, y: float((x.argmax(1) == y).mean()), None),
    'Model': ([(3, 4), (4,), (4, 1), (1,)], ['f'] * 4, lambda *ps: npnet.Model(*ps)(np.ones((2, 3)), np.ones(2)),
              lambda *ps: tlayers.Model(*f64(*ps))(torch.ones(2, 3, dtype=torch.float64), torch.ones(2, dtype=torch.float64)).numpy(),
              lambda *ps: rt(*ps, np.float64)),
    'Lin': ([(2, 3), (3, 2), (2,)], ['f'] * 3, lambda x, w, b: npnet.Lin(w, b)(x), lambda *a: tinit.lin(*f64(*a)).numpy(), rt),
    'Relu': ([(2, 3)], ['f'], lambda a: npnet.Relu()(a), lambda a: tinit.relu(*f64(a)).numpy(), rt),
    'Mse': ([(3, 1), (3,)], ['f', 'f'], lambda o, y: npnet.Mse()(o, y), lambda o, y: tbk.mse(*f64(o, y)).numpy(), rt),
    'fit': ([(4, 3), (4,)], ['f', 'f'], lambda x, y: npnet.fit(small_model(), x, y, epochs=1, bs=2, rng=0),
            lambda x, y: npnet.fit(small_model(), x.astype(float), y.astype(float), epochs=1, bs=2, rng=0), None),
}

def matches(want, dtype):
    "An `ok` check: the result has `dtype` (a tuple: one per result) and the values of `want` (None: plain Python numbers, close)."
    if dtype is None: return lambda r: same(r, want, rtol=1e-2, atol=1e-2)
    if not isinstance(dtype, tuple): want, dtype = (want,), (dtype,)
    def ok(r):
        r = r if isinstance(r, tuple) else (r,)
        return len(r) == len(want) and all(close(np.asarray(w).astype(d))(np.asarray(x)) for x, w, d in zip(r, want, dtype))
    return ok

@pytest.mark.parametrize('dt', DTYPES)
@pytest.mark.parametrize('name', GRID)
def test_every_dtype(name, dt):
    shapes, kinds, call, ref, dtype = GRID[name]
    for i, kind in enumerate(kinds):
        args = [array_of(dt if j == i else 'float64' if kinds[j] != 'iu' else 'int64', s, seed=j) for j, s in enumerate(shapes)]
        what = f"argument {i} {dt}"
        if np.dtype(dt).kind not in kind:              # what the PyTorch version refuses, and what NumPy cannot compute with
            outcome(M, name, lambda: raised(lambda: call(*args), Exception), what=what,
                    ok=lambda e: type(e) is TypeError and name.split('.')[-1] in str(e))
        else: assert outcome(M, name, lambda: call(*args), ok=matches(ref(*args), dtype and dtype(*args)), what=what) == 'correct'

# ---- generated cases: layouts, special values, sizes 0 and 1, against the PyTorch twin given the same dtype ----
LAYOUTS = ['contiguous', 'Fortran order', 'step-sliced', 'reversed', 'zero-stride (broadcast)']
SPECIALS = [NAN, INF, -INF, 5e-324, -0.0, 1e-40]

def laid_out(a, layout):
    "`a`'s values in another memory layout: the values, shape and dtype are the same, the strides are not."
    if layout == 'Fortran order': return np.asfortranarray(a)
    if layout == 'step-sliced':
        big = np.zeros(tuple(2 * n for n in a.shape), a.dtype); big[tuple(slice(None, None, 2) for _ in a.shape)] = a
        return big[tuple(slice(None, None, 2) for _ in a.shape)]
    if layout == 'reversed': return np.ascontiguousarray(a[::-1])[::-1] if a.ndim else a
    if layout == 'zero-stride (broadcast)' and a.ndim and a.shape[0] > 0:
        return np.broadcast_to(a[:1], a.shape)       # every row the first one: read-only, stride 0
    return a

def torch_twin(name, args):
    "The PyTorch version of the course (scratchnet.init, backward), or NumPy's own @, given C-ordered copies in the same dtype."
    if name.startswith('matmul'): return np.matmul(*args)
    t = [T(a) for a in args]
    if name == 'lin': return tinit.lin(*t).numpy()
    if name == 'relu': return tinit.relu(*t).numpy()
    if name == 'mse': return tbk.mse(*t).numpy()
    if name == 'mse_grad': t[0].requires_grad_(False); tbk.mse_grad(*t); return t[0].g.numpy()
    if name == 'relu_grad': o = torch.zeros_like(t[0]); o.g = t[1]; tbk.relu_grad(t[0], o); return t[0].g.numpy()
    if name == 'lin_grad':
        o = torch.zeros_like(t[1]); o.g = t[1]; tbk.lin_grad(t[0], o, t[2], t[3]); return t[0].g.numpy(), t[2].g.numpy(), t[3].g.numpy()
    loss = tbk.forward_and_backward(*t)
    return loss.numpy(), {k: t[i].g.numpy() for k, i in dict(inp=0, w1=2, b1=3, w2=4, b2=5).items()}

SHAPES = {**{f: lambda n, k, m: [(n, k), (k, m)] for f in MATMULS}, 'lin': lambda n, k, m: [(n, k), (k, m), (m,)],
          'relu': lambda n, k, m: [(n, k)], 'mse': lambda n, k, m: [(n, 1), (n,)], 'mse_grad': lambda n, k, m: [(n, 1), (n,)],
          'relu_grad': lambda n, k, m: [(n, k), (n, k)], 'lin_grad': lambda n, k, m: [(n, k), (n, m), (k, m), (m,)],
          'forward_and_backward': lambda n, k, m: [(n, k), (n,), (k, m), (m,), (m, 1), (1,)]}

@settings(max_examples=300, deadline=None, derandomize=True)
@given(st.sampled_from(sorted(SHAPES)), st.sampled_from(['float64', 'float32']), st.integers(0, 3), st.integers(0, 3), st.integers(1, 3),
       st.lists(st.sampled_from(LAYOUTS), min_size=6, max_size=6), st.lists(st.tuples(st.integers(0, 5), st.integers(0, 20), st.sampled_from(SPECIALS)), max_size=3),
       st.integers(0, 2**16))
def test_generated(name, dtype, n, k, m, layouts, specials, seed):
    g = np.random.default_rng(seed)
    args = [g.standard_normal(s).astype(dtype) for s in SHAPES[name](n, k, m)]
    for i, j, v in specials:                                       # NaN, ±inf, denormals and -0.0 at drawn places
        a = args[i % len(args)]
        if a.size: a.reshape(-1)[j % a.size] = v
    args = [laid_out(a, l) for a, l in zip(args, layouts)]
    copies = [np.array(a, order='C') for a in args]
    try: want = torch_twin(name, copies)
    except (TypeError, ValueError):                                # the twin refuses (an empty batch for a loss): so must the port
        outcome(M, name, lambda: getattr(npnet, name)(*args), error=True, what=f"{dtype} {n, k, m} {layouts}"); return
    def ok(r):
        unchanged = all(np.array_equal(a, c, equal_nan=True) for a, c in zip(args, copies))
        fresh = all(not np.shares_memory(x, a) for x in leaves(r) for a in args)
        return unchanged and fresh and same(leaves(r), [np.asarray(x) for x in leaves(want)], rtol=1e-4, atol=1e-5)
    assert outcome(M, name, lambda: getattr(npnet, name)(*args), ok=ok, what=f"{dtype} {n, k, m} {layouts} {specials}") == 'correct'

def leaves(r):
    "The arrays in a result, in order: one array, a tuple of them, or (loss, dict of gradients); NumPy scalars as 0-d arrays."
    if isinstance(r, dict): return [x for k in sorted(r) for x in leaves(r[k])]
    if isinstance(r, (tuple, list)): return [x for v in r for x in leaves(v)]
    return [np.asarray(r)]
