"The bad-input sweep over scratchnet.layers: every call gives autograd's result or a clear error naming the layer."
import numpy as np, torch, pytest
import torch.nn.functional as F
from hypothesis import given, settings, strategies as st
from harness import random_net, outcome
from scratchnet.layers import LayerFunction, Relu, Lin, Mse, Model

M = 'layers'
g = torch.Generator().manual_seed(0)
def r(*s, dtype=torch.float32): return torch.randn(*s, generator=g, dtype=dtype)
def expect(*a, **k): outcome(*a, **k)
NAN = torch.tensor([[float('nan'), 1.], [float('inf'), -float('inf')]])

RELU = {'float32': r(5, 4), 'zeros': torch.zeros(3), 'float64': r(3, dtype=torch.float64), 'float16': r(4).half(), 'empty': r(0, 2),
        'transposed': r(4, 3).t(), 'inf': torch.tensor([float('inf'), -float('inf'), 0.]), '0-d': torch.tensor(-1.)}
RELU_BAD = {'int': torch.tensor([1, -1]), 'bool': torch.tensor([True]), 'numpy': np.ones(2), 'list': [1., -1.], 'None': None}

@pytest.mark.parametrize('case', RELU, ids=str)
def test_relu(case):
    x = RELU[case]
    layer, x2 = Relu(), x.clone()
    expect(M, 'Relu', lambda: layer(x2), ref=lambda: torch.relu(x), what=case)
    gout = torch.ones_like(x)
    def ref():
        xx = x.detach().clone().requires_grad_(); torch.relu(xx).backward(gout); return xx.grad
    def ours():
        layer.out.g = gout; layer.backward(); return x2.g
    expect(M, 'Relu.backward', ours, ref=ref, what=case)

@pytest.mark.parametrize('case', RELU_BAD, ids=str)
def test_relu_bad(case): expect(M, 'Relu', lambda: Relu()(RELU_BAD[case]), error=True, what=case)

LIN_NEW = {'ok': (r(3, 2), r(2), True), 'float64': (r(3, 2, dtype=torch.float64), r(2, dtype=torch.float64), True), 'size-1': (r(1, 1), r(1), True),
           'b short': (r(3, 2), r(1), False), 'w 1-D': (r(3), r(3), False), 'w 3-D': (r(1, 3, 2), r(2), False), 'mixed': (r(3, 2), r(2).double(), False),
           'int': (torch.ones(3, 2, dtype=torch.int64), torch.ones(2, dtype=torch.int64), False), 'list': ([[1.]], r(1), False),
           'numpy': (np.ones((3, 2)), np.ones(2), False), 'None': (None, r(2), False)}

@pytest.mark.parametrize('case', LIN_NEW, ids=str)
def test_lin_init(case):
    w, b, good = LIN_NEW[case]
    outcome(M, 'Lin', lambda: Lin(w, b), ok=lambda l: l.w is w and l.b is b, error=not good, what=case)

LIN_X = {'ok': r(4, 3), 'batch 1': r(1, 3), 'n=0': r(0, 3), 'transposed': r(3, 4).t(), 'nan/inf': torch.cat([NAN, r(2, 1)], 1)}
LIN_X_BAD = {'k wrong': r(4, 2), '1-D': r(3), '3-D': r(2, 4, 3), 'float64': r(4, 3).double(), 'int': torch.ones(4, 3, dtype=torch.int64),
             'numpy': np.ones((4, 3)), 'list': [[1., 2., 3.]], 'None': None}

@pytest.mark.parametrize('case', LIN_X, ids=str)
def test_lin(case):
    x, w, b = LIN_X[case], r(3, 2), r(2)
    layer, x2, w2, b2 = Lin(w.clone(), b.clone()), x.clone(), w.clone(), b.clone()
    expect(M, 'Lin', lambda: layer(x2), ref=lambda: x @ w + b, what=case)
    gout = torch.randn(x.shape[0], 2, generator=g)
    def ref():
        ts = [t.detach().clone().requires_grad_() for t in (x, w, b)]
        (ts[0] @ ts[1] + ts[2]).backward(gout); return tuple(t.grad for t in ts)
    def ours():
        layer.out.g = gout; layer.backward(); return x2.g, layer.w.g, layer.b.g
    expect(M, 'Lin.backward', ours, ref=ref, what=case)

@pytest.mark.parametrize('case', LIN_X_BAD, ids=str)
def test_lin_bad(case): expect(M, 'Lin', lambda: Lin(r(3, 2), r(2))(LIN_X_BAD[case]), error=True, what=case)

def test_backward_needs_a_call_and_out_g():
    expect(M, 'Lin.backward', lambda: Lin(r(3, 2), r(2)).backward(), error=True, what='before a call')
    l = Lin(r(3, 2), r(2)); l(r(4, 3))
    expect(M, 'Lin.backward', l.backward, error=True, what='without out.g')
    l.out.g = r(2, 4)
    expect(M, 'Lin.backward', l.backward, error=True, what='out.g of the wrong shape')
    expect(M, 'Relu.backward', lambda: Relu().backward(), error=True, what='before a call')
    expect(M, 'Mse.backward', lambda: Mse().backward(), error=True, what='before a call')

MSE = {'(n,1)': (r(5, 1), r(5), True), '(n,)': (r(5), r(5), True), 'batch 1': (r(1, 1), r(1), True), 'float64': (r(3, 1).double(), r(3).double(), True),
       'transposed': (r(1, 4).t(), r(4), True), 'n=0': (r(0, 1), r(0), False), '(n,2)': (r(5, 2), r(5), False), 'n mismatch': (r(5, 1), r(4), False),
       'targ (n,1)': (r(5, 1), r(5, 1), False), 'int targ': (r(3, 1), torch.ones(3, dtype=torch.int64), False), 'numpy': (np.ones((3, 1)), np.ones(3), False),
       'None': (None, r(3), False)}

@pytest.mark.parametrize('case', MSE, ids=str)
def test_mse(case):
    o, t, good = MSE[case]
    if not good: return expect(M, 'Mse', lambda: Mse()(o, t), error=True, what=case)
    loss, o2 = Mse(), o.clone()
    expect(M, 'Mse', lambda: loss(o2, t), ref=lambda: F.mse_loss(o.reshape(-1), t), what=case)
    def ref():
        oo = o.detach().clone().requires_grad_(); F.mse_loss(oo.reshape(-1), t).backward(); return oo.grad
    expect(M, 'Mse.backward', lambda: (loss.backward(), o2.g)[1], ref=ref, what=case)

def net(n, k, h, o=1, dtype=torch.float32, zero_row=False):
    ts = [r(n, k, dtype=dtype), r(n, dtype=dtype), r(k, h, dtype=dtype), r(h, dtype=dtype) * 0.1, r(h, o, dtype=dtype), r(o, dtype=dtype) * 0.1]
    if zero_row: ts[0][0] = 0; ts[3].zero_(); ts[5].zero_()
    return ts

def ref_grads(inp, targ, w1, b1, w2, b2):
    ts = [t.detach().clone().requires_grad_() for t in (inp, w1, b1, w2, b2)]
    loss = F.mse_loss((torch.relu(ts[0] @ ts[1] + ts[2]) @ ts[3] + ts[4]).reshape(-1), targ)
    loss.backward()
    return loss.detach(), [t.grad for t in ts]

NETS = {'float32': net(6, 4, 3), 'float64': net(5, 3, 4, dtype=torch.float64), 'batch 1': net(1, 4, 3), 'size-1': net(1, 1, 1),
        'zero row, zero biases': net(4, 3, 5, zero_row=True), 'hidden 0': net(3, 2, 0)}

@pytest.mark.parametrize('case', NETS, ids=str)
def test_model(case):
    inp, targ, *ps = [t.clone() for t in NETS[case]]
    def ours():
        m = Model(*ps); loss = m(inp, targ); m.backward(); return loss, [inp.g, *[p.g for p in ps]]
    expect(M, 'Model', ours, ref=lambda: ref_grads(*NETS[case]), what=case)

def bad_models():
    inp, targ, w1, b1, w2, b2 = net(4, 3, 5)
    return {'w2 rows': (w1, b1, r(4, 1), b2, None), 'b1 short': (w1, b1[:2], w2, b2, None), 'w1 1-D': (w1[0], b1, w2, b2, None),
            'mixed dtypes': (w1.double(), b1, w2, b2, None), 'int': (w1.long(), b1.long(), w2.long(), b2.long(), None),
            'loss a function': (w1, b1, w2, b2, F.mse_loss), 'loss a class': (w1, b1, w2, b2, Mse), 'None w2': (w1, b1, None, b2, None),
            'numpy': (w1.numpy(), b1, w2, b2, None)}
BAD_MODELS = bad_models()

@pytest.mark.parametrize('case', BAD_MODELS, ids=str)
def test_model_init_bad(case):
    *ps, loss = BAD_MODELS[case]
    expect(M, 'Model', lambda: Model(*ps, loss=loss), error=True, what=case)

def bad_calls():
    inp, targ, *ps = net(4, 3, 5)
    return {'x k wrong': (inp[:, :2], targ), 'x 1-D': (inp[0], targ), 'targ short': (inp, targ[:2]), 'n=0': (inp[:0], targ[:0]),
            'x float64': (inp.double(), targ), 'targ int': (inp, targ.long()), 'x numpy': (inp.numpy(), targ), 'x None': (None, targ)}, ps
BAD_CALLS, PS = bad_calls()

@pytest.mark.parametrize('case', BAD_CALLS, ids=str)
def test_model_call_bad(case): expect(M, 'Model', lambda: Model(*PS)(*BAD_CALLS[case]), error=True, what=case)

def test_model_backward_before_call():
    expect(M, 'Model.backward', lambda: Model(*PS).backward(), error=True)

def test_layer_function_base():
    class Double(LayerFunction):
        def forward(self, x): return 2 * x
        def bwd(self, out, x): x.g = 2 * out.g
    x = r(3); d = Double(); out = d(x); out.g = torch.ones(3)
    expect(M, 'LayerFunction', lambda: (d.backward(), x.g)[1], ref=lambda: torch.full((3,), 2.))

@settings(max_examples=25, deadline=None, derandomize=True)
@given(st.integers(1, 8), st.integers(1, 6), st.integers(1, 6), st.integers(0, 2**16), st.booleans())
def test_model_any_size(n, k, h, seed, zero):
    ts = random_net(n, k, h, seed, zero)
    inp, targ, *ps = [t.clone() for t in ts]
    def ours():
        m = Model(*ps); loss = m(inp, targ); m.backward(); return loss, [inp.g, *[p.g for p in ps]]
    expect(M, 'Model', ours, ref=lambda: ref_grads(*ts), what=f"{n, k, h, seed, zero}")
