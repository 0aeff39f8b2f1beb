"The bad-input sweep over scratchnet.init: every call gives torch's result or a clear error naming the function."
import math, numbers, numpy as np, torch, pytest
import matplotlib; matplotlib.use('Agg')
import matplotlib.pyplot as plt
from matplotlib.figure import Figure
from hypothesis import given, settings, strategies as st
from harness import outcome
from scratchnet.init import lin, relu, init_weights, layer_stats, expected_stats, plot_layer_stats, explore_init, init_explorer, check_net

M = 'init'
g = torch.Generator().manual_seed(0)
def r(*s, dtype=torch.float32): return torch.randn(*s, generator=g, dtype=dtype)

def expect(*a, **k): outcome(*a, **k)          # outcome, without a return value (pytest wants None)

def torch_or_error(fn, call, ref, what):
    "Our result must equal torch's; where torch itself fails, ours must fail with a clear error."
    try: want = ref()
    except Exception: return expect(M, fn, call, error=True, what=what)
    return expect(M, fn, call, ref=lambda: want, what=what)

NAN = torch.tensor([[float('nan'), 1.], [float('inf'), -float('inf')]])
LIN_CASES = {
    'float32': (r(4, 3), r(3, 2), r(2)), 'float64': (r(4, 3, dtype=torch.float64), r(3, 2, dtype=torch.float64), r(2, dtype=torch.float64)),
    'float16': (r(4, 3).half(), r(3, 2).half(), r(2).half()), 'batch 1': (r(1, 3), r(3, 2), r(2)),
    'n=0': (r(0, 3), r(3, 2), r(2)), 'k=0': (r(4, 0), r(0, 2), r(2)), 'm=0': (r(4, 3), r(3, 0), r(0)),
    'size-1 dims': (r(1, 1), r(1, 1), r(1)), 'transposed w': (r(4, 3), r(2, 3).t(), r(2)), 'transposed x': (r(3, 4).t(), r(3, 2), r(2)),
    'nan/inf': (NAN, r(2, 2), r(2)), 'int': (torch.ones(4, 3, dtype=torch.int64), torch.ones(3, 2, dtype=torch.int64), torch.ones(2, dtype=torch.int64)),
    'bool': (torch.ones(4, 3, dtype=torch.bool), torch.ones(3, 2, dtype=torch.bool), torch.ones(2, dtype=torch.bool)),
    'mixed dtypes': (r(4, 3), r(3, 2, dtype=torch.float64), r(2)), 'k mismatch': (r(4, 3), r(4, 2), r(2)),
    'b mismatch': (r(4, 3), r(3, 2), r(3)), 'b scalar-like': (r(4, 3), r(3, 2), r(1)), '1-D x': (r(3), r(3, 2), r(2)),
    '3-D x': (r(2, 4, 3), r(3, 2), r(2)), '1-D w': (r(4, 3), r(3), r(1)), 'numpy': (np.ones((4, 3)), np.ones((3, 2)), np.ones(2)),
    'lists': ([[1., 2.]], [[1.], [2.]], [0.]), 'None': (None, r(3, 2), r(2)), 'w None': (r(4, 3), None, r(2)),
}

@pytest.mark.parametrize('case', LIN_CASES, ids=str)
def test_lin(case):
    x, w, b = LIN_CASES[case]
    # torch would broadcast a (1,) bias or a 1-D x silently; our lin asks for the book's shapes, so those must be errors
    strict = case in ('b scalar-like', '1-D x', '3-D x', '1-D w', 'int', 'numpy', 'lists')
    if strict: return expect(M, 'lin', lambda: lin(x, w, b), error=True, what=case)
    torch_or_error('lin', lambda: lin(x, w, b), lambda: x @ w + b, case)

RELU_CASES = {'float32': r(5, 4), 'float64': r(3, dtype=torch.float64), 'float16': r(6).half(), 'zeros': torch.zeros(3),
              'nan/inf': NAN, 'empty': r(0, 3), '0-d': torch.tensor(-2.), 'transposed': r(4, 3).t(), 'bool': torch.ones(3, dtype=torch.bool),
              'int': torch.tensor([-1, 2]), 'numpy': np.array([-1., 2.]), 'list': [-1., 2.], 'None': None, 'str': 'x'}

@pytest.mark.parametrize('case', RELU_CASES, ids=str)
def test_relu(case):
    x = RELU_CASES[case]
    if case == 'int': return expect(M, 'relu', lambda: relu(x), error=True, what=case)   # the net's tensors are floats
    torch_or_error('relu', lambda: relu(x), lambda: torch.relu(x), case)

def test_relu_gradient_at_zero():
    x = torch.tensor([-1., 0., 0., 2.], requires_grad=True)
    outcome(M, 'relu', lambda: torch.autograd.grad(relu(x).sum(), x)[0], ref=lambda: torch.tensor([0., 0., 0., 1.]), what='slope at 0')

INIT_CASES = [((3, 2), {}), ((1, 1), {}), ((3, 2), dict(kind='xavier')), ((3, 2), dict(kind='normal')), ((3, 2), dict(kind='he')),
              ((3, 2), dict(kind=None)), ((0, 2), {}), ((3, -1), {}), ((2.5, 2), {}), ((True, 2), {}), (('3', 2), {}), ((None, 2), {}),
              ((10**6, 10**6), {}), ((2**40, 1), {}), ((3, 2), dict(dtype=torch.float64)), ((3, 2), dict(dtype=torch.float16)),
              ((3, 2), dict(dtype=torch.int64)), ((3, 2), dict(dtype=torch.bool)), ((3, 2), dict(dtype='float32')),
              ((3, 2), dict(generator=5)), ((3, 2), dict(generator=-5)), ((3, 2), dict(generator=2**70)), ((3, 2), dict(generator='x')),
              ((3, 2), dict(generator=1.5)), ((3, 2), dict(generator=torch.Generator().manual_seed(3))), ((np.int64(3), 2), {}), ((np.int64(2**31), np.int64(2**33)), {})]
STD = dict(kaiming=lambda n: math.sqrt(2 / n), xavier=lambda n: 1 / math.sqrt(n), normal=lambda n: 1.)

@pytest.mark.parametrize('i', range(len(INIT_CASES)))
def test_init_weights(i):
    (n_in, n_out), kw = INIT_CASES[i]
    valid = (all(isinstance(v, numbers.Integral) and not isinstance(v, bool) and v >= 1 for v in (n_in, n_out)) and int(n_in) * int(n_out) <= 2**28
             and kw.get('kind', 'kaiming') in STD and kw.get('dtype') in (None, torch.float16, torch.float32, torch.float64)
             and not isinstance(kw.get('generator'), (str, float)))
    if not valid: return expect(M, 'init_weights', lambda: init_weights(n_in, n_out, **kw), error=True, what=repr(INIT_CASES[i]))
    gen = kw.get('generator')
    ref_gen = torch.Generator().manual_seed(gen % 2**63) if isinstance(gen, int) else torch.Generator().manual_seed(3) if gen is not None else None
    if gen is None: torch.manual_seed(0)
    want = torch.randn(n_in, n_out, generator=ref_gen, dtype=kw.get('dtype')) * STD[kw.get('kind', 'kaiming')](n_in)
    if gen is None: torch.manual_seed(0)
    if isinstance(gen, torch.Generator): kw = {**kw, 'generator': torch.Generator().manual_seed(3)}
    outcome(M, 'init_weights', lambda: init_weights(n_in, n_out, **kw), ref=lambda: want, what=repr(INIT_CASES[i]))

def reference_stats(depth, n, bs, scale=None, kind=None, act=None, seed=0):
    g = torch.Generator().manual_seed(seed)
    x, out = torch.randn(bs, n, generator=g), []
    sd = scale if kind is None else STD[kind](n)
    for _ in range(depth):
        x = x @ (torch.randn(n, n, generator=g) * sd)
        if act is not None: x = torch.relu(x)
        out.append((x.double().mean().item(), x.double().std().item()))
    return out

BAD_RUNS = [dict(), dict(scale=0.1, kind='xavier'), dict(kind='he'), dict(scale=0), dict(scale=-1.), dict(scale=math.nan),
            dict(scale=math.inf), dict(scale='0.1'), dict(scale=True), dict(scale=torch.tensor(0.1)), dict(scale=0.1, act='relu'),
            dict(scale=0.1, act=torch.relu), dict(scale=0.1, depth=0), dict(scale=0.1, depth=10**9), dict(scale=0.1, depth=2.5),
            dict(scale=0.1, depth=None), dict(scale=0.1, n=0), dict(scale=0.1, n=10**6), dict(scale=0.1, bs=-3), dict(scale=0.1, bs=10**9),
            dict(scale=0.1, n=1, bs=1), dict(scale=0.1, seed=-1), dict(scale=0.1, seed=2**64), dict(scale=0.1, seed=1.5),
            dict(scale=0.1, depth=1000, n=4096, bs=4096), dict(scale=0.1, depth=1000, n=1000, bs=100)]

@pytest.mark.parametrize('i', range(len(BAD_RUNS)))
@pytest.mark.parametrize('fn', [layer_stats, explore_init], ids=lambda f: f.__name__)
def test_runs_bad(fn, i):
    outcome(M, fn.__name__, lambda: fn(**BAD_RUNS[i]), error=True, what=repr(BAD_RUNS[i]))

@pytest.mark.parametrize('i', range(len(BAD_RUNS)))
def test_expected_stats_bad(i):
    kw = {k: v for k, v in BAD_RUNS[i].items() if k not in ('bs', 'seed')}
    if kw == dict(scale=0.1, n=1) or kw == dict(scale=0.1) or kw == dict(scale=0.1, depth=1000, n=4096) or kw == dict(scale=0.1, depth=1000, n=1000):
        return expect(M, 'expected_stats', lambda: expected_stats(**kw), ok=lambda s: len(s) == kw.get('depth', 50), what=repr(kw))
    outcome(M, 'expected_stats', lambda: expected_stats(**kw), error=True, what=repr(kw))

@settings(max_examples=20, deadline=None, derandomize=True)
@given(st.integers(1, 4), st.integers(1, 6), st.integers(1, 5), st.sampled_from([None, relu]),
       st.sampled_from([dict(scale=0.5), dict(kind='xavier'), dict(kind='kaiming'), dict(kind='normal')]), st.integers(0, 2**16))
def test_layer_stats_matches_reference(depth, n, bs, act, init, seed):
    if n * bs < 2: return expect(M, 'layer_stats', lambda: layer_stats(depth, n, bs, act=act, seed=seed, **init), error=True)
    outcome(M, 'layer_stats', lambda: layer_stats(depth, n, bs, act=act, seed=seed, **init),
            ref=lambda: reference_stats(depth, n, bs, act=act, seed=seed, **init), what=f"{depth, n, bs, act, init, seed}")

def test_expected_stats_values():
    outcome(M, 'expected_stats', lambda: expected_stats(depth=3, n=400, scale=0.1), ref=lambda: [(0., 2.), (0., 4.), (0., 8.)])
    outcome(M, 'expected_stats', lambda: expected_stats(depth=1000, scale=10.), ok=lambda s: s[-1][1] == math.inf)
    outcome(M, 'expected_stats', lambda: expected_stats(depth=1000, scale=1e-3), ok=lambda s: s[-1][1] == 0.)

PLOT_CASES = {'ok': ({'a': [(0., 1.), (0., 2.)]}, None, True), 'nan/inf/zero': ({'a': [(math.nan, math.inf), (0., 0.)]}, None, True),
              'with expected': ({'a': [(0., 1.)]}, {'a': [(0., 1.)]}, True), 'numpy floats': ({'a': [(np.float64(0.), np.float64(1.))]}, None, True),
              'list not dict': ([(0., 1.)], None, False), 'empty': ({}, None, False), 'None': (None, None, False),
              'bad pair': ({'a': [1., 2.]}, None, False), 'str value': ({'a': [(0., '1')]}, None, False),
              'bool value': ({'a': [(0., True)]}, None, False), 'tensor value': ({'a': [(0., torch.tensor(1.))]}, None, False),
              'extra expected': ({'a': [(0., 1.)]}, {'b': [(0., 1.)]}, False), 'expected not dict': ({'a': [(0., 1.)]}, [(0., 1.)], False),
              '21 runs': ({f'r{i}': [(0., 1.)] for i in range(21)}, None, False), '10**6 layers': ({'a': [(0., 1.)] * 10**6}, None, False),
              'label not str': ({3: [(0., 1.)]}, None, True)}

@pytest.mark.parametrize('case', PLOT_CASES, ids=str)
def test_plot_layer_stats(case):
    stats, expected, good = PLOT_CASES[case]
    outcome(M, 'plot_layer_stats', lambda: plot_layer_stats(stats, expected=expected), ok=lambda f: isinstance(f, Figure), error=not good, what=case)
    plt.close('all')

def test_explore_init_ok():
    outcome(M, 'explore_init', lambda: explore_init(kind='kaiming', act=relu, depth=3),
            ok=lambda f: isinstance(f, Figure) and f.axes[0].get_title().startswith('kaiming, ReLU, 3 layers'))
    outcome(M, 'explore_init', lambda: explore_init(scale=0.1, depth=1), ok=lambda f: isinstance(f, Figure))

def test_init_explorer():
    outcome(M, 'init_explorer', init_explorer, ok=lambda ui: 'scratchnet-init-explorer' in ui._dom_classes and len(ui.fig.axes[0].lines[1].get_xdata()) == 50)
    plt.close('all')

CHECK_NET = {'ok': (dict(a=(r(2, 3), 'n k'), b=(r(3), 'k')), True), 'mixed': (dict(a=(r(2, 3), 'n k'), b=(r(3, dtype=torch.float64), 'k')), False),
             'int': (dict(a=(torch.ones(2, dtype=torch.int32), 'n'),), False), 'shape': (dict(a=(r(2, 3), 'n k'), b=(r(4), 'k')), False),
             'numpy': (dict(a=(np.ones(2), 'n'),), False)}

@pytest.mark.parametrize('case', CHECK_NET, ids=str)
def test_check_net(case):
    named, good = CHECK_NET[case]
    outcome(M, 'f', lambda: check_net('f', **named), ok=lambda s: isinstance(s, dict), error=not good, what=case)
