"The sweep over scratchnet.checks, and an example of the pattern every module's sweep follows."
import numpy as np, torch, pytest
from hypothesis import given, settings, strategies as st
from harness import outcome
from scratchnet.checks import check_shapes, check_int, describe

BAD_VALUES = [None, 'x', 1.5, True, [1, 2], np.zeros(2), torch.zeros(2), float('nan'), -1, 0, 10**12]

@pytest.mark.parametrize('v', BAD_VALUES, ids=repr)
def test_check_int(v):
    ok = isinstance(v, int) and not isinstance(v, bool) and 1 <= v <= 100
    outcome('checks', 'f', lambda: check_int('f', 1, 100, n=v), ok=lambda r: r is None, error=not ok, what=repr(v))

@settings(max_examples=40, deadline=None, derandomize=True)
@given(st.lists(st.integers(0, 3), min_size=0, max_size=4), st.lists(st.integers(0, 3), min_size=0, max_size=4))
def test_check_shapes_any_shapes(sa, sb):
    a, b = torch.zeros(sa), torch.zeros(sb)
    fits = len(sa) == 2 and len(sb) == 2 and sa[1] == sb[0]
    outcome('checks', 'mm', lambda: check_shapes('mm', a=(a, 'n k'), b=(b, 'k m')),
            ok=lambda r: r == dict(n=sa[0], k=sa[1], m=sb[1]), error=not fits, what=f"{sa}, {sb}")

def test_describe():
    outcome('checks', 'describe', lambda: describe(np.zeros((0, 3))), ref=lambda: (0, 3))
