"""The bad-input sweep over scratchnet.data: the digits, normalising, and pictures (the MNIST files: test_sweep_mnist.py)."""
import io
import numpy as np, torch, pytest, matplotlib.figure, matplotlib.pyplot as plt
from harness import outcome
from scratchnet.data import normalise, load_digits_data, show_images

M = 'data'
nan, inf = float('nan'), float('inf')
G = lambda k=0: torch.Generator().manual_seed(k)

def raised(call, kind):
    "Run `call`; return the exception if it is a `kind`, else the result (for environment errors that are not bad arguments)."
    try: return call()
    except kind as e: return e

# normalise
XT, XV = torch.randn(10, 4, generator=G()), torch.randn(3, 4, generator=G(1))
def norm_ref(a, b): m, s = a.mean(), a.std(); return (a - m) / s, (b - m) / s, m, s
GOOD_NORM = [('2-D', (XT, XV)), ('float64', (XT.double(), XV.double())), ('1-D', (XT[0], XV[0])), ('empty valid', (XT, XV[:0])),
             ('transposed', (XT.t(), XV.t())), ('NaN in valid', (XT, XV.clone().fill_(nan)))]
BAD_NORM = [('one value', (XT[:1, :1], XV)), ('constant', (torch.ones(5), XV)), ('int', (torch.arange(5), XV)), ('bool', (XT > 0, XV)),
            ('numpy', (XT.numpy(), XV)), ('list', (XT.tolist(), XV)), ('None', (None, XV)), ('valid None', (XT, None)), ('int valid', (XT, XV.long())),
            ('empty', (XT[:0], XV)), ('NaN in train', (XT.clone().fill_(nan), XV)), ('meta x_train', (XT.to('meta'), XV)),
            ('meta x_valid', (XT, XV.to('meta'))), ('meta both', (XT.to('meta'), XV.to('meta'))), ('inf in train', (XT.clone().fill_(inf), XV))]

@pytest.mark.parametrize('what,args', GOOD_NORM, ids=[w for w, _ in GOOD_NORM])
def test_normalise(what, args): outcome(M, 'normalise', lambda: normalise(*args), ref=lambda: norm_ref(*args), what=what)

@pytest.mark.parametrize('what,args', BAD_NORM, ids=[w for w, _ in BAD_NORM])
def test_normalise_bad(what, args): outcome(M, 'normalise', lambda: normalise(*args), error=True, what=what)

DIGITS = load_digits_data()
@pytest.mark.parametrize('kw', [dict(valid_pct=0), dict(valid_pct=1), dict(valid_pct=-0.1), dict(valid_pct=nan), dict(valid_pct=inf),
                                dict(valid_pct=True), dict(valid_pct='0.2'), dict(valid_pct=None), dict(valid_pct=1e-9),
                                dict(seed=-1), dict(seed=1.5), dict(seed=None), dict(seed=2**64), dict(device='nodevice')], ids=repr)
def test_load_digits_bad(kw): outcome(M, 'load_digits_data', lambda: load_digits_data(**kw), error=True, what=repr(kw))

@pytest.mark.parametrize('kw', [dict(), dict(valid_pct=0.5, seed=3), dict(valid_pct=0.999), dict(seed=0), dict(device='cpu')], ids=repr)
def test_load_digits(kw):
    outcome(M, 'load_digits_data', lambda: load_digits_data(**kw), what=repr(kw),
            ok=lambda r: len(r) == 4 and r[0].dtype == torch.float32 and r[1].dtype == torch.int64 and len(r[0]) + len(r[2]) == 1797)
    outcome(M, 'load_digits_data', lambda: load_digits_data(**kw)[1], ref=lambda: load_digits_data(**kw)[1], what=f"{kw} twice")

# show_images
def fig_ok(n): return lambda f: isinstance(f, matplotlib.figure.Figure) and sum(bool(a.images) for a in f.axes) == n
SHOW_GOOD = [('flat rows', (DIGITS[0][:5],), 5), ('(n, h, w)', (DIGITS[0][:3].reshape(3, 8, 8),), 3), ('(n, 1, h, w)', (DIGITS[0][:2].reshape(2, 1, 8, 8),), 2),
             ('one image', (DIGITS[0][:1],), 1), ('labels', (DIGITS[0][:4], DIGITS[1][:4]), 4), ('numpy', (DIGITS[0][:3].numpy(),), 3),
             ('list', (DIGITS[0][:2].tolist(),), 2), ('uint8', (torch.zeros(2, 4, 4, dtype=torch.uint8),), 2), ('bool', (torch.ones(2, 9) > 0,), 2),
             ('float16', (DIGITS[0][:2].half(),), 2), ('non-contiguous', (DIGITS[0][:3].reshape(3, 8, 8).transpose(1, 2),), 3),
             ('1×1 images', (torch.ones(2, 1),), 2), ('40 images', (torch.zeros(40, 4),), 40)]
SHOW_BAD = [('None', (None,)), ('a string', ('abc',)), ('empty', (torch.zeros(0, 64),)), ('not square', (torch.zeros(2, 10),)), ('1-D', (torch.zeros(64),)),
            ('5-D', (torch.zeros(1, 1, 1, 8, 8),)), ('3 channels', (torch.zeros(2, 3, 4, 4),)), ('101 images', (torch.zeros(101, 4),)), ('a million images', (torch.zeros(10**6, 1),)),
            ('labels short', (DIGITS[0][:3], DIGITS[1][:2])), ('complex', (torch.zeros(2, 4, dtype=torch.complex64),)),
            ('ragged list', ([[1., 2.], [3.]],)), ('labels an int', (DIGITS[0][:3], 7)), ('meta images', (torch.zeros(2, 4, device='meta'),)),
            ('meta labels', (torch.zeros(2, 4), torch.zeros(2, device='meta'))), ('labels a set', (torch.zeros(3, 4), {1, 2, 3})),
            ('labels a dict', (torch.zeros(2, 4), {'a': 1, 'b': 2})), ('labels a 0-d tensor', (torch.zeros(1, 4), torch.tensor(3)))]

@pytest.mark.parametrize('what,args,n', SHOW_GOOD, ids=[w for w, *_ in SHOW_GOOD])
def test_show_images(what, args, n):
    def call(): f = show_images(*args); plt.close(f); return f
    outcome(M, 'show_images', call, ok=fig_ok(n), what=what)

@pytest.mark.parametrize('what,args', SHOW_BAD, ids=[w for w, _ in SHOW_BAD])
def test_show_images_bad(what, args): outcome(M, 'show_images', lambda: show_images(*args), error=True, what=what)

@pytest.mark.parametrize('kw', [dict(ncols=0), dict(ncols=2.5), dict(ncols=10**6), dict(ncols=None), dict(size=0), dict(size=nan), dict(size=1e6),
                                dict(size='big')], ids=repr)
def test_show_images_settings(kw): outcome(M, 'show_images', lambda: show_images(DIGITS[0][:3], **kw), error=True, what=repr(kw))

# the labels: each image's title is its label's text, a whole number written as one; nothing is cut or refused
LABELS = [('ints', [3, 1], ['3', '1']), ('strings', ['cat', 'dog'], ['cat', 'dog']), ('NaN', [nan, 1.], ['nan', '1']),
          ('None', [None, 2], ['None', '2']), ('fractions', [2.5, -0.5], ['2.5', '-0.5']), ('inf', [inf, -inf], ['inf', '-inf']),
          ('int tensor', torch.tensor([7, 8]), ['7', '8']), ('float tensor with NaN', torch.tensor([1., nan]), ['1', 'nan']),
          ('numpy strings', np.array(['a', 'b']), ['a', 'b']), ('numpy ints', np.array([4, 5], np.uint8), ['4', '5']),
          ('a tuple of tensors', (torch.tensor(1), torch.tensor(2.5)), ['1', '2.5']), ('maths signs', ['$x$', '$\\alpha'], ['$x$', '$\\alpha']),
          ('a string, one letter each', 'ab', ['a', 'b']), ('bools', [True, False], ['True', 'False'])]

@pytest.mark.parametrize('what,labels,want', LABELS, ids=[w for w, *_ in LABELS])
def test_show_images_labels(what, labels, want):
    def call():
        f = show_images(torch.zeros(2, 4), labels)
        f.savefig(io.BytesIO(), format='png')                     # drawn: a title that matplotlib cannot draw fails here
        plt.close(f); return [ax.get_title() for ax in f.axes[:2]]
    assert outcome(M, 'show_images', call, ref=lambda: want, what=what) == 'correct'
