"The bad-input sweep over scratchnet.broadcasting: the rules against torch.broadcast_shapes, the table, the picture, the explorer, and matmul_broadcast."
import numpy as np, torch, pytest
from hypothesis import given, settings, strategies as st
from hypothesis.extra.numpy import mutually_broadcastable_shapes
from harness import outcome
from scratchnet.broadcasting import broadcast_shapes, explain_broadcast, plot_broadcast, parse_shape, broadcast_explorer, matmul_broadcast
from test_sweep_matmul import sweep_matmul

def test_matmul_broadcast(): sweep_matmul('broadcasting', matmul_broadcast)

def test_matmul_broadcast_too_many_rows():
    a = torch.zeros(1, 1).expand(10**8, 1)
    outcome('broadcasting', 'matmul_broadcast', lambda: matmul_broadcast(a, torch.zeros(1, 1)), error=True, what='10⁸ rows')

def _torch_shape(*shapes): return tuple(torch.broadcast_shapes(*shapes))

GOOD = [((3, 3), (3,)), ((3, 1), (1, 4)), ((1, 0), (0, 1)), ((0,), (1,)), ((), ()), ((), (2, 3)), (3, (2, 1)), ((5, 1, 4), (3, 1)),
        (torch.Size([2, 1]), [1, 3]), ((10**12, 1), (1, 10**12)), ((1,) * 40, (2,)), ((2, 3),)]
BAD = [((2, 3), (2,)), ((0,), (2,)), ((2, -1),), ('23',), ((2.0,),), ((True,),), (None,), ((None,),), ([[2]],), (torch.tensor([2, 3]),),
       ((2, 3), 'x'), (2.5,), ((float('nan'),),), ({2: 3},)]

@pytest.mark.parametrize('shapes', GOOD, ids=repr)
def test_broadcast_shapes_good(shapes):
    outcome('broadcasting', 'broadcast_shapes', lambda: broadcast_shapes(*shapes), ref=lambda: _torch_shape(*shapes), what=repr(shapes))
    if max(len(s) if isinstance(s, (tuple, list)) else 1 for s in shapes) <= 32:
        outcome('broadcasting', 'explain_broadcast', lambda: explain_broadcast(*shapes), what=repr(shapes),
                ok=lambda r: f'→ result shape {_torch_shape(*shapes)}' in r.splitlines())

@pytest.mark.parametrize('shapes', BAD, ids=repr)
def test_broadcast_shapes_bad(shapes):
    outcome('broadcasting', 'broadcast_shapes', lambda: broadcast_shapes(*shapes), error=True, what=repr(shapes))
    try: torch.broadcast_shapes(*shapes); clash = False
    except (RuntimeError, TypeError, ValueError): clash = True
    if clash and all(isinstance(s, (tuple, list)) and all(isinstance(d, int) and not isinstance(d, bool) and d >= 0 for d in s) for s in shapes):
        outcome('broadcasting', 'explain_broadcast', lambda: explain_broadcast(*shapes), what=repr(shapes),    # a clash: the table says so
                ok=lambda r: r.splitlines()[-1] == '→ these shapes cannot broadcast')
    else: outcome('broadcasting', 'explain_broadcast', lambda: explain_broadcast(*shapes), error=True, what=repr(shapes))

def test_numpy_sizes():
    outcome('broadcasting', 'broadcast_shapes', lambda: broadcast_shapes((np.int64(2), 1), (3,)), ref=lambda: (2, 3), what='numpy ints')

def test_explain_broadcast_too_many_dims():
    outcome('broadcasting', 'explain_broadcast', lambda: explain_broadcast((1,) * 10**6), error=True, what='10⁶ dimensions')

@settings(max_examples=60, deadline=None, derandomize=True)
@given(st.integers(1, 4).flatmap(lambda n: mutually_broadcastable_shapes(num_shapes=n, min_side=0, max_side=4, max_dims=5)))
def test_broadcast_shapes_any(bs):
    outcome('broadcasting', 'broadcast_shapes', lambda: broadcast_shapes(*bs.input_shapes), ref=lambda: bs.result_shape, what=repr(bs.input_shapes))

@settings(max_examples=40, deadline=None, derandomize=True)
@given(st.lists(st.lists(st.integers(0, 4), max_size=4).map(tuple), min_size=1, max_size=3))
def test_broadcast_shapes_random_pairs(shapes):
    try: want = _torch_shape(*shapes)
    except RuntimeError: want = None
    outcome('broadcasting', 'broadcast_shapes', lambda: broadcast_shapes(*shapes), ref=(lambda: want) if want is not None else None,
            error=want is None, what=repr(shapes))

PLOTS = [((3, 1), (4,), True), ((), 3, True), ((1, 0), (0, 1), True), ((8,), (8, 1), True), ((2, 3), (2,), False),
         ((2, 2, 2), (2,), False), ((9,), 1, False), ((10**9,), 1, False), ((1, 10**9), (10**9, 1), False), (None, (2,), False),
         ('(3,)', (3,), False), ((-1,), (2,), False)]

@pytest.mark.parametrize('a,b,fine', PLOTS, ids=repr)
def test_plot_broadcast(a, b, fine):
    outcome('broadcasting', 'plot_broadcast', lambda: plot_broadcast(a, b), ok=lambda f: len(f.axes) == 3, error=not fine, what=f'{a!r}, {b!r}')

@pytest.mark.parametrize('side', [0, 21, 10**6, 2.5, None, True])
def test_plot_broadcast_max_side(side):
    outcome('broadcasting', 'plot_broadcast', lambda: plot_broadcast((2,), (2,), max_side=side), error=True, what=f'max_side={side!r}')

TEXTS = [('(3, 1)', (3, 1)), ('3,1', (3, 1)), ('[3 1]', (3, 1)), ('()', ()), ('', ()), (' 0 , 4 ', (0, 4)), ('3,', (3,)),
         ('(3, -1)', None), ('2.5', None), ('three', None), ('²', None), ('9' * 5000, None), ('1e3', None), ('(3, 1', None),
         (None, None), ((3, 1), None), (3, None), (b'(3,)', None)]

@pytest.mark.parametrize('text,want', TEXTS, ids=lambda v: repr(v)[:20])
def test_parse_shape(text, want):
    outcome('broadcasting', 'parse_shape', lambda: parse_shape(text), ref=(lambda: want) if want is not None else None,
            error=want is None, what=repr(text)[:30])

@pytest.mark.parametrize('a,b,fine', [('(3, 1)', '(4,)', True), ('(2, 3)', '(3,)', True), ('three', '(2,)', True), ('(2,)', '(3,)', True),
                                      ('1,' * 40, '(2,)', True), (3, '(4,)', False), ('(3,)', None, False)], ids=repr)
def test_broadcast_explorer(a, b, fine):
    outcome('broadcasting', 'broadcast_explorer', lambda: broadcast_explorer(a, b), error=not fine, what=f'{a!r}, {b!r}',
            ok=lambda w: 'scratchnet-broadcast-explorer' in w._dom_classes and w.children[1].value != '')
