"The bad-input sweep over scratchnet.einsum: our einsum against torch.einsum (floats, integers, bools, uint16-64; letters of size 1 that broadcast; operands as one list), bad specs and operands, and the matmul variants."
import importlib.util, warnings, numpy as np, torch, pytest
from hypothesis import given, settings, strategies as st
from harness import outcome
from scratchnet.einsum import einsum, matmul_einsum, matmul_scratch_einsum, matmul_numba
from test_sweep_matmul import sweep_matmul, MATMUL_CASES, _t

HAS_NUMBA = importlib.util.find_spec('numba') is not None

@pytest.mark.parametrize('f', [matmul_einsum, matmul_scratch_einsum], ids=lambda f: f.__name__)
def test_matmul_variants(f): sweep_matmul('einsum', f)

@pytest.mark.skipif(not HAS_NUMBA, reason='numba is optional')
def test_matmul_numba():          # numba has no float16: that case must be a clear error
    sweep_matmul('einsum', matmul_numba, [(w, a, b, 'error' if e == 'half' else e) for w, a, b, e in MATMUL_CASES])

@pytest.mark.skipif(not HAS_NUMBA, reason='numba is optional')
def test_matmul_numba_outside_autograd():          # numba works on plain NumPy arrays, outside autograd: inputs that want gradients, and meta tensors, are refused
    a, b = _t(2, 3).requires_grad_(), _t(3, 4, seed=1)
    outcome('einsum', 'matmul_numba', lambda: matmul_numba(a, b), error=True, what='a requires grad')
    outcome('einsum', 'matmul_numba', lambda: matmul_numba(a.detach().to('meta'), b.to('meta')), error=True, what='meta')
    with torch.no_grad(): assert outcome('einsum', 'matmul_numba', lambda: matmul_numba(a, b), ref=lambda: a @ b, what='under no_grad') == 'correct'

def _torch(spec, ops):
    "torch.einsum's answer, or None where torch itself refuses."
    try: return torch.einsum(spec, *ops)
    except (RuntimeError, NotImplementedError): return None

UINTS = (torch.uint16, torch.uint32, torch.uint64)

def _val(*shape, dtype, seed):
    "`_t`'s values; for uint16-64 the small non-negative integers of uint8 (torch has no randint for them)."
    return _t(*shape, dtype=torch.uint8, seed=seed).to(dtype) if dtype in UINTS else _t(*shape, dtype=dtype, seed=seed)

@st.composite
def cases(draw, dtypes=(torch.float64,)):
    letters = 'abcdE'
    size = {c: draw(st.integers(0, 3)) for c in letters}
    dtype = draw(st.sampled_from(dtypes))
    g = torch.Generator().manual_seed(draw(st.integers(0, 2**16)))
    terms, ops = [], []
    for _ in range(draw(st.integers(1, 3))):
        subs = draw(st.lists(st.sampled_from(letters), max_size=3))
        own = {c: draw(st.sampled_from([size[c], 1])) for c in sorted(set(subs))}             # sometimes 1: the letter broadcasts
        terms.append(''.join(subs)); ops.append(_val(*[own[c] for c in subs], dtype=dtype, seed=int(torch.randint(0, 2**16, (), generator=g))))
        if draw(st.booleans()) and ops[-1].ndim == 2: ops[-1] = ops[-1].t().contiguous().t()                 # same values, transposed strides
    spec = ','.join(terms)
    if draw(st.booleans()):
        used = sorted(set(spec) - set(','))
        spec += '->' + ''.join(draw(st.permutations(used))[:draw(st.integers(0, len(used)))])
    return spec, ops

@settings(max_examples=150, deadline=None, derandomize=True)
@given(cases(dtypes=(torch.float64, torch.float32)), st.booleans())
def test_einsum_floats(case, as_list):
    spec, ops = case
    args = [ops] if as_list else ops                                  # the operands one by one, or as one list
    assert outcome('einsum', 'einsum', lambda: einsum(spec, *args), ref=lambda: torch.einsum(spec, *args), what=spec) == 'correct'   # torch computes it: so must we

@settings(max_examples=150, deadline=None, derandomize=True)
@given(cases(dtypes=(torch.int32, torch.int64, torch.uint8, torch.int8, torch.bool) + UINTS))
def test_einsum_ints_and_bools(case):
    "Where torch.einsum answers, the same dtype and value; where it refuses, a clear error or the exact answer (computed in int64)."
    spec, ops = case
    want = _torch(spec, ops)
    if want is not None and any(o.numel() == 0 for o in ops):     # torch's dtype for empty operands follows its internal order:
        outcome('einsum', 'einsum', lambda: einsum(spec, *ops), what=f'{spec} {ops[0].dtype} (empty)',   # the same zeros, maybe int64
                ok=lambda r: r.shape == want.shape and r.dtype in (want.dtype, torch.int64) and torch.equal(r.long(), want.long()))
    elif want is not None: assert outcome('einsum', 'einsum', lambda: einsum(spec, *ops), ref=lambda: want, what=f'{spec} {ops[0].dtype}') == 'correct'
    else:
        exact = torch.einsum(spec, *[o.long() for o in ops])
        outcome('einsum', 'einsum', lambda: einsum(spec, *ops), what=f'{spec} {ops[0].dtype} (torch refuses)',
                ok=lambda r: torch.equal(r.long(), exact))

@settings(max_examples=40, deadline=None, derandomize=True)
@given(cases(dtypes=(torch.float16,)))
def test_einsum_half(case):
    spec, ops = case
    want = torch.einsum(spec, *[o.double() for o in ops])
    outcome('einsum', 'einsum', lambda: einsum(spec, *ops), what=f'{spec} float16',
            ok=lambda r: r.dtype == torch.float16 and r.shape == want.shape and torch.allclose(r.double(), want, rtol=2e-2, atol=2e-2))

BIG = torch.full((3,), 2**30, dtype=torch.int32)
A, B = _t(2, 3), _t(3, 4, seed=1)
NAN = torch.tensor([[float('nan'), 1.], [float('inf'), -float('inf')]])
GOOD = [('i->', (BIG,)), ('i,i->', (BIG, BIG)), ('i,j->ij', (BIG, BIG)), ('ij,jk', (A, B)), ('ij,jk', (A.t().contiguous().t(), B)),
        ('ij->', (NAN,)), ('ij,jk->ik', (NAN, NAN)), ('ii', (NAN,)), ('...ij,...jk', (_t(1, 2, 3), _t(4, 3, 2))),
        ('i,i->', (torch.zeros(0), torch.zeros(0))), ('b i j, b j k -> b i k', (_t(1, 2, 3), _t(1, 3, 1))),
        ('ij->ji', (torch.zeros(1, 1).expand(3, 4),)), ('ij,ij->ij', (A, A)),
        ('ij,ij->j', (torch.ones(10, 2), torch.ones(1, 2))), ('ij,jk->ik', (_t(2, 1), B)), ('ii,i->i', (_t(1, 1), _t(3))),    # size 1 broadcasts
        ('ij,jk', ([A, B],)), ('ij,jk', ((A, B),)), ('ij', ([A],)),                                                             # one list
        ('i,j->ij', (_val(3, dtype=torch.uint16, seed=0),) * 2), ('ij->ji', (_val(2, 3, dtype=torch.uint32, seed=0),)),
        ('i->', (_val(4, dtype=torch.uint64, seed=0),)), ('i,i->i', (_val(3, dtype=torch.uint64, seed=0),) * 2)]

@pytest.mark.parametrize('spec,ops', GOOD, ids=[g[0] + str(i) for i, g in enumerate(GOOD)])
def test_einsum_edges(spec, ops):
    assert 'correct' == outcome('einsum', 'einsum', lambda: einsum(spec, *ops), ref=lambda: torch.einsum(spec, *ops), what=spec)

@pytest.mark.parametrize('spec', ['ij', 'ij->ij', '...', 'i j', '...ij->ij'])
def test_einsum_identity_is_a_new_view(spec):          # never the operand itself: reshaping the result in place must leave the operand alone
    a = A.clone()
    outcome('einsum', 'einsum', lambda: einsum(spec, a), ok=lambda r: r is not a and torch.equal(r, torch.einsum(spec, a)), what=spec)
    einsum(spec, a).t_(); assert a.shape == A.shape

def test_einsum_grads():                                # autograd through broadcasting, a list of operands and identity specs, as torch.einsum's
    for spec, shapes in [('ij', [(2, 3)]), ('...', [(2, 3)]), ('ij,ij->j', [(10, 2), (1, 2)]), ('ij,jk->ik', [(2, 1), (3, 4)]), ('ij,jk', [(2, 3), (3, 4)])]:
        def grads(f):
            leaves = [_t(*s, dtype=torch.float64, seed=k).requires_grad_() for k, s in enumerate(shapes)]
            f(spec, leaves).pow(2).sum().backward()
            return [l.grad for l in leaves]
        assert outcome('einsum', 'einsum', lambda: grads(einsum), ref=lambda: grads(torch.einsum), what=f'{spec} gradients') == 'correct'

def test_einsum_mixed_dtypes():          # torch.einsum refuses; ours promotes, the way @ does
    outcome('einsum', 'einsum', lambda: einsum('ij,jk', A, B.double()), ref=lambda: torch.einsum('ij,jk', A.double(), B.double()))
    outcome('einsum', 'einsum', lambda: einsum('ij,jk', A.long(), B), ref=lambda: torch.einsum('ij,jk', A.long().float(), B))
    u = _val(3, dtype=torch.uint16, seed=0)                      # uint16 with a float: promoted to the float
    outcome('einsum', 'einsum', lambda: einsum('i,i', u, A[0]), ref=lambda: torch.einsum('i,i', u.float(), A[0]))

HUGE = torch.zeros(1).expand(10**7)
with warnings.catch_warnings():                        # nested, quantized and CSR tensors warn that they are a prototype, deprecated, in beta
    warnings.simplefilter('ignore')
    NESTED, QUANT, CSR = torch.nested.nested_tensor([_t(3), _t(3)]), torch.quantize_per_tensor(A, 0.1, 0, torch.qint8), A.to_sparse_csr()
BAD = [('ij,jk->ik', (A,)), ('ijk->i', (A,)), ('ij,jk->ik', (A, B.t())), ('ii->i', (A,)), ('ij->k', (A,)), ('ij->ii', (A,)),
       ('i1,1j', (A, B)), ('ij.', (A,)), ('...i...', (A,)), ('ij->j->i', (A,)), ('...i,...i', (_t(2, 3), _t(4, 3))), ('ij', ()),
       ('ij', (A.tolist(),)), ('ij', (np.ones((2, 3)),)), ('ij', (None,)), (['ij'], (A,)), (None, (A,)), ('ij,jk', (A, B.to('meta'))),
       ('i,i->', (torch.ones(3, dtype=torch.bool),) * 2), ('i,j->ij', (HUGE, HUGE)), ('ij', (3.0,)), ('é', (torch.ones(2),)),
       ('. ..', (A,)), ('.. .', (A,)), ('ij- >ji', (A,)), ('ij,ij->j', (torch.ones(10, 2), torch.ones(3, 2))), ('ii->i', (torch.ones(1, 3),)),
       ('ij,jk', ([A, B.tolist()],)), ('ij', ([],)), ('i,i->', (_val(3, dtype=torch.uint16, seed=0),) * 2),
       ('ij,jk', (_val(2, 3, dtype=torch.uint32, seed=0), _val(3, 2, dtype=torch.uint32, seed=1))), ('i,i', (_val(3, dtype=torch.uint64, seed=0), BIG.long())),
       ('ij,ij->j', (_val(3, 2, dtype=torch.uint16, seed=0), _val(1, 2, dtype=torch.uint16, seed=1))),
       ('ij', (A.to_sparse(),)), ('ij,j', (CSR, A[0])), ('ij', (QUANT,)), ('ij', (NESTED,)), ('ij->ji', (A.to_mkldnn(),)),
       ('ij->', (A.to(torch.float8_e4m3fn),)), ('ij,j', (torch.empty(2, 3, dtype=torch.uint4), A[0])), ('ii->', (torch.empty(2, 2, dtype=torch.bits8),))]

@pytest.mark.parametrize('spec,ops', BAD, ids=[repr(b[0]) + str(i) for i, b in enumerate(BAD)])
def test_einsum_bad(spec, ops):
    outcome('einsum', 'einsum', lambda: einsum(spec, *ops), error=True, what=repr(spec))
