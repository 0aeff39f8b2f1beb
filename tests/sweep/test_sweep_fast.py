"""The bad-input sweep over scratchnet.fast: the planned einsum, the channels-last convolution and the fast Lin/Model
give the lesson versions' results (and PyTorch's) for good input, and a clear error that names them for bad input."""
import warnings, numpy as np, torch, pytest
import torch.nn.functional as F
from harness import outcome
from scratchnet import fast, layers
from scratchnet.einsum import einsum as plain_einsum
from scratchnet.conv import Conv2dFunction as PlainConv

M = 'fast'
def rnd(*shape, dtype=torch.float32, k=0): return torch.randn(*shape, generator=torch.Generator().manual_seed(k), dtype=torch.float64).to(dtype)

EINSUM_GOOD = {'matmul': ('ik,kj->ij', (rnd(3, 4), rnd(4, 2, k=1))), 'batched': ('bij,bjk->bik', (rnd(2, 3, 4), rnd(2, 4, 5, k=1))),
               'trace': ('ii', (rnd(3, 3),)), 'ellipsis': ('...ij,...jk', (rnd(1, 2, 3), rnd(5, 3, 2, k=1))),
               'int': ('ij,jk', (torch.arange(6).reshape(2, 3), torch.arange(6).reshape(3, 2))), 'transposed': ('ij,jk', (rnd(4, 3).t(), rnd(4, 2, k=1))),
               'expanded': ('ij,jk', (rnd(1, 4).expand(3, 4), rnd(4, 2, k=1))), 'empty': ('ij,jk', (rnd(0, 3), rnd(3, 2))),
               'letter broadcasts': ('ij,ij->j', (rnd(10, 2), rnd(1, 2, k=1))), 'identity': ('ij->ij', (rnd(2, 3),)),
               'uint16 outer': ('i,j->ij', (torch.arange(3).to(torch.uint16), torch.arange(4).to(torch.uint16)))}

@pytest.mark.parametrize('case', EINSUM_GOOD, ids=str)
def test_einsum_equals_the_lesson(case):
    spec, ops = EINSUM_GOOD[case]
    for _ in range(2):                                               # the first call plans, the second replays
        assert outcome(M, 'einsum', lambda: fast.einsum(spec, *ops), ref=lambda: plain_einsum(spec, *ops), what=case) == 'correct'
    outcome(M, 'einsum', lambda: fast.einsum(spec, *ops), ref=lambda: torch.einsum(spec, *[o.to(torch.result_type(*ops)) if len(ops) > 1 else o for o in ops]), what=f'{case} vs torch')

EINSUM_BAD = {'no operands': ('ij', ()), 'list operand': ('ij', ([[1.]],)), 'numpy operand': ('ij', (np.ones((2, 2)),)),
              'spec not str': (['ij'], (rnd(2, 2),)), 'too few': ('ij,jk', (rnd(2, 2),)), 'sizes disagree': ('ij,jk', (rnd(2, 3), rnd(2, 3))),
              'bad letter': ('i1', (rnd(2, 2),)), 'two devices': ('ij,jk', (rnd(2, 2), rnd(2, 2).to('meta'))),
              'bool summed': ('i,i->', (torch.ones(3, dtype=torch.bool),) * 2), 'uint16 summed': ('i,i->', (torch.ones(3).to(torch.uint16),) * 2),
              'uint16 with int64': ('i,i', (torch.ones(3).to(torch.uint16), torch.ones(3, dtype=torch.int64))),
              'space in ...': ('. ..', (rnd(2, 2),)), 'diagonal of 1×3': ('ii->i', (rnd(1, 3),)), 'list of numbers': ('ij', ([[1., 2.]],)),
              'sparse': ('ij', (rnd(2, 2).to_sparse(),)), 'float8 summed': ('ij->', (rnd(2, 2).to(torch.float8_e5m2),)),
              'uint4 promoted': ('ij,j', (torch.empty(2, 2, dtype=torch.uint4), rnd(2)))}
with warnings.catch_warnings():                        # nested and quantized tensors warn that they are a prototype, deprecated
    warnings.simplefilter('ignore')
    EINSUM_BAD.update({'nested': ('ij', (torch.nested.nested_tensor([rnd(2), rnd(2)]),)), 'quantized': ('ij', (torch.quantize_per_tensor(rnd(2, 2), 0.1, 0, torch.qint8),))})

def test_einsum_new_view_list_and_grads():
    "Never an operand itself; the operands as one list; gradients as torch.einsum's, planned and replayed."
    a, b = rnd(3, 4), rnd(1, 4, k=1)
    for _ in range(2):
        outcome(M, 'einsum', lambda: fast.einsum('ij', a), ok=lambda r: r is not a and torch.equal(r, a), what='identity')
        assert outcome(M, 'einsum', lambda: fast.einsum('ij,ij->j', [a, b]), ref=lambda: torch.einsum('ij,ij->j', [a, b]), what='one list') == 'correct'
    y = fast.einsum('ij', a); y.t_(); assert a.shape == (3, 4)
    def grads(f):
        leaves = [t.double().requires_grad_() for t in (a, b)]
        f('ij,ij->j', leaves).pow(2).sum().backward()
        return [l.grad for l in leaves]
    for _ in range(2): assert outcome(M, 'einsum', lambda: grads(fast.einsum), ref=lambda: grads(torch.einsum), what='gradients') == 'correct'

@pytest.mark.parametrize('case', EINSUM_BAD, ids=str)
def test_einsum_bad(case):
    spec, ops = EINSUM_BAD[case]
    for _ in range(2): outcome(M, 'einsum', lambda: fast.einsum(spec, *ops), error=True, what=case)

CONV_GOOD = {'plain': (rnd(2, 3, 7, 6), rnd(4, 3, 3, 2, k=1), rnd(4, k=2), 1, 0, 1), 'strided padded dilated': (rnd(2, 3, 9, 8), rnd(4, 3, 3, 2, k=1), None, 2, 1, 2),
             'channels last': (rnd(2, 3, 7, 6).contiguous(memory_format=torch.channels_last), rnd(4, 3, 3, 3, k=1), rnd(4, k=2), (1, 2), (2, 0), 1),
             'batch 0': (rnd(0, 3, 5, 5), rnd(2, 3, 3, 3, k=1), None, 1, 0, 1), 'float64': (rnd(1, 2, 5, 5, dtype=torch.float64), rnd(3, 2, 2, 2, dtype=torch.float64, k=1), None, 1, 1, 1)}

@pytest.mark.parametrize('way', [(1, 1), (10**9, 10**9)], ids=['view, tap by tap', 'gather, one scatter-add'])
@pytest.mark.parametrize('case', CONV_GOOD, ids=str)
def test_conv_equals_the_lesson_and_torch(case, way, monkeypatch):
    "Both ways of fast.Conv2dFunction's unfold and fold (its thresholds pick one by size): the same values as torch and the lesson."
    monkeypatch.setattr(fast, 'VIEW_MIN_CHANNELS', way[0]); monkeypatch.setattr(fast, 'TAPWISE_MIN_ROWS', way[1])
    x, w, b, s, p, d = CONV_GOOD[case]
    outcome(M, 'Conv2dFunction', lambda: fast.Conv2dFunction.apply(x, w, b, s, p, d), ref=lambda: F.conv2d(x, w, b, s, p, d), what=case)
    outcome(M, 'Conv2dFunction', lambda: fast.Conv2dFunction.apply(x, w, b, s, p, d), ref=lambda: PlainConv.apply(x, w, b, s, p, d), what=f'{case} vs lesson')

CONV_BAD = {'x list': ([[1.]], rnd(1, 1, 1, 1)), 'x 3-D': (rnd(3, 5, 5), rnd(2, 3, 3, 3)), 'channels disagree': (rnd(1, 2, 5, 5), rnd(2, 3, 3, 3)),
            'kernel too big': (rnd(1, 3, 2, 2), rnd(2, 3, 3, 3)), 'int x': (torch.ones(1, 3, 5, 5, dtype=torch.int64), rnd(2, 3, 3, 3)),
            'dtypes differ': (rnd(1, 3, 5, 5), rnd(2, 3, 3, 3, dtype=torch.float64))}

@pytest.mark.parametrize('case', CONV_BAD, ids=str)
def test_conv_bad(case):
    x, w = CONV_BAD[case]
    outcome(M, 'Conv2dFunction', lambda: fast.Conv2dFunction.apply(x, w), error=True, what=case)

@pytest.mark.parametrize('n', [1, 3])
def test_model_equals_the_lesson(n):
    ps = [rnd(4, 3, k=1), rnd(3, k=2), rnd(3, 1, k=3), rnd(1, k=4)]
    x, y = rnd(n, 4, k=5), rnd(n, k=6)
    def grads(cls):
        m = cls(*[p.clone() for p in ps]); loss = m(x.clone(), y); m.backward()
        return [loss] + [p.g for p in m.params]
    outcome(M, 'Model', lambda: grads(fast.Model), ref=lambda: grads(layers.Model), what=f'batch {n}')

@pytest.mark.parametrize('case, args', [('w 1-D', (rnd(3), rnd(3), rnd(3, 1), rnd(1))), ('b wrong', (rnd(4, 3), rnd(2), rnd(3, 1), rnd(1))),
                                        ('w list', ([[1.]], rnd(1), rnd(1, 1), rnd(1)))], ids=str)
def test_model_bad(case, args): outcome(M, 'Model', lambda: fast.Model(*args), error=True, what=case)

@pytest.mark.parametrize('img', [1, 2, 3, 8, 28])
def test_simple_cnn_equals_the_lesson(img):
    "fast.simple_cnn (channels-last, the last convolution channels-first) gives the logits and gradients of the lesson's net on F.conv2d."
    from scratchnet.conv import simple_cnn, Conv2dRef
    def run(make):
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(0); net = make().double()             # in float64, so that the sums agree to the harness tolerance
        x = rnd(2, img * img, dtype=torch.float64, k=1).requires_grad_()
        out = net(x); out.backward(rnd(*out.shape, dtype=torch.float64, k=2))
        return [out.detach(), x.grad] + [p.grad for p in net.parameters()]
    outcome(M, 'simple_cnn', lambda: run(lambda: fast.simple_cnn(img)), ref=lambda: run(lambda: simple_cnn(img, conv=Conv2dRef)), what=str(img))

@pytest.mark.parametrize('what,kw', [('img 0', dict(img_size=0)), ('img 2.5', dict(img_size=2.5)), ('img None', dict(img_size=None)),
                                     ('n_out 0', dict(n_out=0)), ('two widths', dict(widths=(16, 32))), ('width 0', dict(widths=(16, 0, 64)))])
def test_simple_cnn_bad(what, kw): outcome(M, 'simple_cnn', lambda: fast.simple_cnn(**kw), error=True, what=what)
