"The bad-input sweep over scratchnet.conv: unfold pictures, conv2d, the autograd Function, the layer and the CNN."
import numpy as np, torch, pytest, matplotlib.figure, matplotlib.pyplot as plt
import torch.nn.functional as F
from hypothesis import given, settings, assume, strategies as st
from harness import outcome
from scratchnet.conv import unfold_indices, plot_unfold, unfold_explorer, conv2d, Conv2dFunction, Conv2d, Conv2dRef, simple_cnn

M = 'conv'
G = lambda k=0: torch.Generator().manual_seed(k)
nan, inf = float('nan'), float('inf')
def rnd(*shape, dtype=torch.float32, k=0): return torch.randn(*shape, generator=G(k), dtype=torch.float64).to(dtype)

def pair(v): return tuple(v) if isinstance(v, (tuple, list)) else (v, v)
def indices_by_definition(h, w, ks, s, p, d):
    "The definition of `unfold_indices`, one entry at a time, each axis with its own settings."
    (kh, kw), (sh, sw), (ph, pw), (dh, dw) = map(pair, (ks, s, p, d))
    ho, wo = (h + 2 * ph - dh * (kh - 1) - 1) // sh + 1, (w + 2 * pw - dw * (kw - 1) - 1) // sw + 1
    out = torch.empty(kh * kw, ho * wo, dtype=torch.long)
    for u in range(kh):
        for v in range(kw):
            for i in range(ho):
                for j in range(wo):
                    r, c = i * sh + u * dh - ph, j * sw + v * dw - pw
                    out[u * kw + v, i * wo + j] = r * w + c if 0 <= r < h and 0 <= c < w else -1
    return out

def highlighted(fig):
    "The pixels that the left panel of `plot_unfold` highlights, as flat indices (-1 for each padding tap), sorted."
    ax = fig.axes[0]; state = torch.tensor(ax.images[0].get_array().data)
    labels = {(round(t.get_position()[1]), round(t.get_position()[0])): t.get_text() for t in ax.texts}
    return sorted(-1 if state[r, c] == 3 else int(labels[r, c]) for r, c in (state % 2 == 1).nonzero().tolist())

setting = lambda lo, hi: st.one_of(st.integers(lo, hi), st.tuples(st.integers(lo, hi), st.integers(lo, hi)))

@settings(max_examples=30, deadline=None, derandomize=True)
@given(st.integers(1, 7), st.integers(1, 7), setting(1, 3), setting(1, 3), setting(0, 2), setting(1, 3), st.integers(0, 10**6))
def test_unfold_and_picture_per_axis(h, w, ks, s, p, d, k):
    (kh, kw), (ph, pw), (dh, dw) = pair(ks), pair(p), pair(d)
    fits = dh * (kh - 1) + 1 <= h + 2 * ph and dw * (kw - 1) + 1 <= w + 2 * pw
    what = f"{h}, {w}, ks={ks}, stride={s}, padding={p}, dilation={d}"
    outcome(M, 'unfold_indices', lambda: unfold_indices(h, w, ks, s, p, d), error=not fits,
            ref=(lambda: indices_by_definition(h, w, ks, s, p, d)) if fits else None, what=what)
    if fits:
        want = indices_by_definition(h, w, ks, s, p, d)
        col = k % want.shape[1]
        def pic():
            fig = plot_unfold(h, w, ks, s, p, d, col); plt.close(fig); return fig
        outcome(M, 'plot_unfold', pic, ok=lambda f: highlighted(f) == sorted(want[:, col].tolist()), what=f"{what}, col={col}")

BAD_GEOMETRY = [('h 0', (0, 4)), ('w -1', (4, -1)), ('h 1.5', (1.5, 4)), ('h None', (None, 4)), ('h True', (True, 4)), ('h "4"', ('4', 4)),
                ('ks 0', (4, 4, 0)), ('ks (2,)', (4, 4, (2,))), ('ks (2, 0)', (4, 4, (2, 0))), ('ks 2.0', (4, 4, 2.)),
                ('ks too big', (3, 3, 4)), ('stride 0', (4, 4, 2, 0)), ('stride (1, -1)', (4, 4, 2, (1, -1))), ('padding -1', (4, 4, 2, 1, -1)),
                ('dilation 0', (4, 4, 2, 1, 0, 0)), ('dilation huge', (4, 4, 2, 1, 0, 10**9)), ('padding huge', (4, 4, 2, 1, 10**9)),
                ('image huge', (10**6, 10**6)), ('kernel huge', (4, 4, 10**9))]

@pytest.mark.parametrize('what,args', BAD_GEOMETRY, ids=[w for w, _ in BAD_GEOMETRY])
def test_geometry_errors(what, args):
    outcome(M, 'unfold_indices', lambda: unfold_indices(*args), error=True, what=what)
    outcome(M, 'plot_unfold', lambda: plot_unfold(*args), error=True, what=what)

@pytest.mark.parametrize('what,kw', [('28×28 (a 297-inch figure before)', dict(h=28, w=28)), ('17 wide', dict(h=2, w=17)),
                                     ('padding to 17', dict(h=15, w=15, padding=1)), ('col -1', dict(col=-1)), ('col 9', dict(col=9)),
                                     ('col True', dict(col=True)), ('col 1.0', dict(col=1.)), ('col None', dict(col=None))])
def test_plot_unfold_limits(what, kw):
    outcome(M, 'plot_unfold', lambda: plot_unfold(**kw), error=True, what=what)

def test_plot_unfold_largest_allowed():
    def pic(): fig = plot_unfold(10, 10, ks=1, col=99); plt.close(fig); return fig
    outcome(M, 'plot_unfold', pic, ok=lambda f: isinstance(f, matplotlib.figure.Figure) and max(f.get_size_inches()) < 120, what='10×10, 100 columns')

@pytest.mark.parametrize('h,w', [(0, 5), (11, 5), (5, 1.5), (None, 5), (True, 5), (5, 5), (1, 1)])
def test_unfold_explorer(h, w):
    ok = all(isinstance(v, int) and not isinstance(v, bool) and 1 <= v <= 10 for v in (h, w))
    outcome(M, 'unfold_explorer', lambda: unfold_explorer(h, w), error=not ok,
            ok=lambda r: 'scratchnet-unfold' in r._dom_classes, what=f"{h}, {w}")

# conv2d and Conv2dFunction: x, weight, bias and settings against F.conv2d
X, W, B = rnd(2, 3, 7, 6), rnd(4, 3, 3, 2, k=1), rnd(4, k=2)
CASES = [('plain', (X, W, B), {}), ('no bias', (X, W, None), {}), ('batch of 1', (X[:1], W, B), {}), ('empty batch', (X[:0], W, B), {}),
         ('1 channel, 1×1 image, 1×1 kernel', (rnd(2, 1, 1, 1), rnd(3, 1, 1, 1), None), {}),
         ('0 input channels', (X[:, :0], W[:, :0], B), {}),
         ('float64', (X.double(), W.double(), B.double()), {}), ('per-axis settings', (X, W, B), dict(stride=(2, 1), padding=(0, 2), dilation=(2, 1))),
         ('transposed x', (X.transpose(2, 3).contiguous().transpose(2, 3), W, B), {}), ('transposed weight', (X, W.transpose(2, 3).contiguous().transpose(2, 3), B), {}),
         ('channels-last x', (X.to(memory_format=torch.channels_last), W, B), {}), ('expanded bias', (X, W, torch.tensor(1.).expand(4)), {}),
         ('NaN in x', (X.clone().index_put_((torch.tensor(0), torch.tensor(0), torch.tensor(0), torch.tensor(0)), torch.tensor(nan)), W, B), {}),
         ('inf in weight', (X, W.clone().fill_(inf), B), {}), ('stride 1000', (X, W, B), dict(stride=1000)),
         ('padding 3', (X, W, B), dict(padding=3)), ('kernel as big as the padded image', (X, rnd(4, 3, 9, 8), B), dict(padding=1))]
BAD = [('x 3-D', (X[0], W, B), {}), ('weight 3-D', (X, W[0], B), {}), ('x 5-D', (X[None], W, B), {}), ('channels differ', (X, W[:, :2], B), {}),
       ('bias too short', (X, W, B[:3]), {}), ('bias 2-D', (X, W, B[None]), {}), ('bias a list', (X, W, B.tolist()), {}),
       ('float64 weight', (X, W.double(), B), {}), ('int x and weight', (X.long(), W.long(), B.long()), {}), ('bool', (X > 0, W > 0, None), {}),
       ('complex', (X.to(torch.complex64), W.to(torch.complex64), None), {}),
       ('x numpy', (X.numpy(), W, B), {}), ('x list', (X.tolist(), W, B), {}), ('x None', (None, W, B), {}), ('weight None', (X, None, B), {}),
       ('kernel too big', (X, rnd(4, 3, 9, 2), B), {}), ('stride 0', (X, W, B), dict(stride=0)), ('stride 1.5', (X, W, B), dict(stride=1.5)),
       ('stride (1, 2, 3)', (X, W, B), dict(stride=(1, 2, 3))), ('padding -1', (X, W, B), dict(padding=-1)), ('dilation 0', (X, W, B), dict(dilation=0)),
       ('stride None', (X, W, B), dict(stride=None)), ('padding "same"', (X, W, B), dict(padding='same')),
       ('padding absurd', (X, W, B), dict(padding=10**5)), ('dilation absurd', (X, W, B), dict(dilation=10**9))]

def call_fn(x, w, b, kw): return Conv2dFunction.apply(x, w, b, kw.get('stride', 1), kw.get('padding', 0), kw.get('dilation', 1))

@pytest.mark.parametrize('what,args,kw', CASES, ids=[c[0] for c in CASES])
def test_conv_matches_torch(what, args, kw):
    ref = lambda: F.conv2d(*args, **kw)
    outcome(M, 'conv2d', lambda: conv2d(*args, **kw), ref=ref, what=what)
    outcome(M, 'Conv2dFunction', lambda: call_fn(*args, kw), ref=ref, what=what)
    def grads(f):
        leaves = [t.detach().clone().requires_grad_() if t is not None else None for t in args]
        out = f(*leaves)
        out.backward(torch.linspace(-1, 1, out.numel(), dtype=out.dtype).reshape(out.shape) if out.numel() else torch.zeros_like(out))
        return [t.grad if t is not None else None for t in leaves]
    if not any(t is not None and not torch.isfinite(t).all() for t in args):
        outcome(M, 'Conv2dFunction', lambda: grads(lambda *t: call_fn(*t, kw)), ref=lambda: grads(lambda *t: F.conv2d(*t, **kw)),
                what=f"{what}, gradients")

@pytest.mark.parametrize('what,args,kw', BAD, ids=[c[0] for c in BAD])
def test_conv_bad(what, args, kw):
    outcome(M, 'conv2d', lambda: conv2d(*args, **kw), error=True, what=what)
    outcome(M, 'Conv2dFunction', lambda: call_fn(*args, kw), error=True, what=what)

def test_conv_no_reference():
    "Cases where F.conv2d has no answer (0 output channels) or a slow backward (stride 10**9): the forward result must be right."
    outcome(M, 'conv2d', lambda: conv2d(X, W[:0], B[:0]), ok=lambda r: r.shape == (2, 0, 5, 5), what='0 output channels')
    outcome(M, 'Conv2dFunction', lambda: call_fn(X, W[:0], B[:0], {}), ok=lambda r: r.shape == (2, 0, 5, 5), what='0 output channels')
    outcome(M, 'conv2d', lambda: conv2d(X, W, B, stride=10**9), ref=lambda: F.conv2d(X, W, B, stride=10**9), what='stride 10**9')
    outcome(M, 'Conv2dFunction', lambda: call_fn(X, W, B, dict(stride=10**9)), ref=lambda: F.conv2d(X, W, B, stride=10**9), what='stride 10**9')

@pytest.mark.parametrize('dtype', [torch.float16, torch.bfloat16])
def test_conv_half(dtype):
    args = [t.to(dtype) for t in (X, W, B)]
    loose = lambda r: r.dtype == dtype and r.shape == (2, 4, 5, 5) and torch.allclose(r.double(), F.conv2d(*args).double(), rtol=5e-2, atol=5e-2)
    outcome(M, 'conv2d', lambda: conv2d(*args), ok=loose, what=str(dtype))
    outcome(M, 'Conv2dFunction', lambda: call_fn(*args, {}), ok=loose, what=str(dtype))

def test_once_differentiable():
    "The backward pass is not differentiable: a second derivative must be refused, never silently wrong."
    from scratchnet import fast
    x, w = rnd(1, 1, 4, 4, dtype=torch.float64).requires_grad_(), rnd(2, 1, 2, 2, dtype=torch.float64, k=1).requires_grad_()
    for Fn in (Conv2dFunction, fast.Conv2dFunction):
        assert torch.autograd.gradcheck(lambda x, w: Fn.apply(x, w), (x, w))
        for loss in (lambda y: (y ** 2).sum(), lambda y: y.sum()):        # an incoming gradient with a graph, and a constant one
            with pytest.raises(RuntimeError, match='Conv2dFunction: differentiable once'):
                torch.autograd.grad(loss(Fn.apply(x, w)), x, create_graph=True)
        with pytest.raises(RuntimeError, match='Conv2dFunction: differentiable once'):
            torch.autograd.gradgradcheck(lambda x, w: Fn.apply(x, w), (x, w))
    assert torch.autograd.gradgradcheck(lambda x, w: F.conv2d(x, w), (x, w))          # the reference can, for comparison

def test_every_function_twice():
    "gradgradcheck through every autograd.Function of the course passes or raises a clear error (here: MyRelu passes)."
    from scratchnet.modules import MyRelu
    x = torch.tensor([[-1.5, 0.5, 2.0], [0.25, -0.75, 3.0]], dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradgradcheck(MyRelu.apply, (x,))

LAYER_ARGS = [('ok', (3, 4, 3), {}), ('pair kernel', (3, 4, (3, 1)), dict(stride=(2, 1), padding=(1, 0))), ('1×1', (1, 1, 1), {}),
              ('n_in 0', (0, 4, 3), {}), ('n_out -1', (3, -1, 3), {}), ('n_in 1.5', (1.5, 4, 3), {}), ('n_in None', (None, 4, 3), {}),
              ('n_out True', (3, True, 3), {}), ('ks 0', (3, 4, 0), {}), ('ks (3,)', (3, 4, (3,)), {}), ('ks "3"', (3, 4, '3'), {}),
              ('stride 0', (3, 4, 3), dict(stride=0)), ('padding -1', (3, 4, 3), dict(padding=-1)), ('absurd', (10**6, 10**6, 3), {}),
              ('absurd kernel', (3, 4, 10**6), {})]

@pytest.mark.parametrize('cls', [Conv2d, Conv2dRef])
@pytest.mark.parametrize('what,args,kw', LAYER_ARGS, ids=[c[0] for c in LAYER_ARGS])
def test_conv_layer(cls, what, args, kw):
    good = what in ('ok', 'pair kernel', '1×1')
    outcome(M, 'Conv2d', lambda: cls(*args, **kw), error=not good, ok=lambda m: m.weight.shape[:2] == args[1::-1], what=what)

def test_conv_layer_forward():
    torch.manual_seed(0)
    ours, ref = Conv2d(3, 4, 3, stride=2, padding=1), Conv2dRef(3, 4, 3, stride=2, padding=1)
    ref.load_state_dict(ours.state_dict())
    for what, x in [('batch 2', X), ('batch 1', X[:1]), ('empty', X[:0]), ('transposed', X.transpose(2, 3))]:
        outcome(M, 'Conv2d', lambda: ours(x).detach(), ref=lambda: ref(x).detach(), what=what)
    for what, x in [('2 channels', X[:, :2]), ('3-D', X[0]), ('float64', X.double()), ('numpy', X.numpy())]:
        outcome(M, 'Conv2dFunction', lambda: ours(x), error=True, what=what)

@pytest.mark.parametrize('img', [1, 2, 3, 8, 9, 28])
def test_simple_cnn_sizes(img):
    def run(): torch.manual_seed(0); return simple_cnn(img)(rnd(2, img * img)).detach()
    def ref(): torch.manual_seed(0); return simple_cnn(img, conv=Conv2dRef)(rnd(2, img * img)).detach()
    outcome(M, 'simple_cnn', run, ok=lambda r: r.shape == (2, 10) and torch.allclose(r, ref(), atol=1e-5), what=str(img))

@pytest.mark.parametrize('what,kw', [('img 0', dict(img_size=0)), ('img -3', dict(img_size=-3)), ('img 2.5', dict(img_size=2.5)),
                                     ('img None', dict(img_size=None)), ('img absurd', dict(img_size=10**9)), ('n_out 0', dict(n_out=0)),
                                     ('two widths', dict(widths=(16, 32))), ('width 0', dict(widths=(16, 0, 64))), ('widths None', dict(widths=None)),
                                     ('width 2.5', dict(widths=(16, 2.5, 64))), ('conv None', dict(conv=None))])
def test_simple_cnn_bad(what, kw):
    outcome(M, 'simple_cnn', lambda: simple_cnn(**kw), error=True, what=what)
