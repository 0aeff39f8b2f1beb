"The bad-input sweep over scratchnet.modules: every call gives PyTorch's result or a clear error naming the function."
import numpy as np, torch, pytest
import torch.nn.functional as F
from torch import nn
from hypothesis import given, settings, strategies as st
from harness import outcome
from scratchnet import layers
from scratchnet.init import init_weights
from scratchnet.modules import MyRelu, LinearLayer, Module, Model, copy_into, train_step_hand, train_step_autograd

M = 'modules'
g = torch.Generator().manual_seed(0)
def r(*s, dtype=torch.float32): return torch.randn(*s, generator=g, dtype=dtype)
def expect(*a, **k): outcome(*a, **k)

RELU = {'float32': r(5, 4), 'zeros': torch.zeros(3), 'with zeros': torch.tensor([-1., 0., 2., 0.]), 'float64': r(3, dtype=torch.float64),
        'float16': r(4).half(), 'empty': r(0, 2), 'transposed': r(4, 3).t(), 'inf': torch.tensor([float('inf'), -float('inf')]), '0-d': torch.tensor(-1.)}
RELU_BAD = {'int': torch.tensor([1, -1]), 'bool': torch.tensor([True]), 'numpy': np.ones(2), 'list': [1., -1.], 'None': None}

@pytest.mark.parametrize('case', RELU, ids=str)
def test_my_relu(case):
    x = RELU[case]
    expect(M, 'MyRelu', lambda: MyRelu.apply(x), ref=lambda: torch.relu(x), what=case)
    gout = torch.randn(x.shape, generator=g, dtype=x.dtype)
    def grad(f):
        xx = x.detach().clone().requires_grad_(); f(xx).backward(gout); return xx.grad
    expect(M, 'MyRelu', lambda: grad(MyRelu.apply), ref=lambda: grad(torch.relu), what=case + ', gradient')

@pytest.mark.parametrize('case', RELU_BAD, ids=str)
def test_my_relu_bad(case): expect(M, 'MyRelu', lambda: MyRelu.apply(RELU_BAD[case]), error=True, what=case)

@pytest.mark.parametrize('shape', [(4, 3), (1,), (0, 2), (2, 1, 3)])
def test_my_relu_twice_differentiable(shape):
    v = torch.randn(*shape, generator=g, dtype=torch.float64)
    x = (v.sign() * (v.abs() + 0.1)).requires_grad_()            # away from the corner at 0
    expect(M, 'MyRelu', lambda: torch.autograd.gradgradcheck(MyRelu.apply, (x,)), ref=lambda: True, what=f"gradgradcheck {shape}")
    def second(f):     # d/dx of (d/dx sum(f(x)^2)) · 1, through create_graph
        xx = x.detach().clone().requires_grad_()
        gx, = torch.autograd.grad(f(xx).pow(2).sum(), xx, create_graph=True)
        return torch.autograd.grad(gx.sum(), xx)[0] if gx.requires_grad else torch.zeros_like(xx)
    expect(M, 'MyRelu', lambda: second(MyRelu.apply), ref=lambda: second(torch.relu), what=f"second derivative {shape}")

LL_NEW = [(10, 2, True), (1, 1, True), (0, 3, False), (3, -1, False), (2.5, 2, False), (True, 2, False), (None, 2, False), ('3', 2, False),
          (10**6, 10**6, False), (2**14 + 1, 1, False)]

@pytest.mark.parametrize('i', range(len(LL_NEW)))
def test_linear_layer_init(i):
    n_in, n_out, good = LL_NEW[i]
    outcome(M, 'LinearLayer', lambda: LinearLayer(n_in, n_out), ok=lambda l: l.weight.shape == (n_out, n_in) and (l.bias == 0).all().item(),
            error=not good, what=repr(LL_NEW[i][:2]))

LL_X = {'2-D': r(4, 10), 'batch 1': r(1, 10), 'n=0': r(0, 10), '3-D': r(2, 3, 10), '1-D': r(10), 'transposed': r(10, 4).t(),
        'nan': torch.full((2, 10), float('nan'))}
LL_X_BAD = {'k wrong': r(4, 9), '0-d': torch.tensor(1.), 'float64': r(4, 10).double(), 'int': torch.ones(4, 10, dtype=torch.int64),
            'numpy': np.ones((4, 10)), 'list': [[1.] * 10], 'None': None}

@pytest.mark.parametrize('case', LL_X, ids=str)
def test_linear_layer(case):
    torch.manual_seed(0); ll = LinearLayer(10, 2)
    with torch.no_grad(): ll.bias.copy_(r(2))
    x = LL_X[case]
    expect(M, 'LinearLayer', lambda: ll(x), ref=lambda: F.linear(x, ll.weight, ll.bias), what=case)

@pytest.mark.parametrize('case', LL_X_BAD, ids=str)
def test_linear_layer_bad(case): expect(M, 'LinearLayer', lambda: LinearLayer(10, 2)(LL_X_BAD[case]), error=True, what=case)

def test_module():
    class Two(Module):
        def __init__(self, n): self.lin = nn.Linear(n, 2)
        def forward(self, x): return self.lin(x)
    outcome(M, 'Module', lambda: [n for n, _ in Two(3).named_parameters()], ref=lambda: ['lin.weight', 'lin.bias'])

MODEL_NEW = [((784, 50, 1), True), ((784, 50), True), ((1, 1, 1), True), ((784, 0, 1), False), ((0, 5, 1), False), ((784, 50, 2), False),
             ((784, 2.5, 1), False), ((None, 5, 1), False), ((10**6, 10**6, 1), False), (('3', 5, 1), False)]

@pytest.mark.parametrize('i', range(len(MODEL_NEW)))
def test_model_init(i):
    args, good = MODEL_NEW[i]
    outcome(M, 'Model', lambda: Model(*args), ok=lambda m: m.layers[0].in_features == args[0], error=not good, what=repr(args))

def model_and_ref(n_in=6, nh=4):
    torch.manual_seed(0); m = Model(n_in, nh, 1)
    return m, lambda x, t: F.mse_loss(m.layers(x).reshape(-1), t)

MODEL_X = {'ok': (r(5, 6), r(5)), 'batch 1': (r(1, 6), r(1)), 'transposed': (r(6, 5).t(), r(5))}
MODEL_X_BAD = {'k wrong': (r(5, 4), r(5)), '1-D x': (r(6), r(1)), 'targ short': (r(5, 6), r(4)), 'targ (n,1)': (r(5, 6), r(5, 1)),
               'n=0': (r(0, 6), r(0)), 'x float64': (r(5, 6).double(), r(5)), 'targ int': (r(5, 6), torch.ones(5, dtype=torch.int64)),
               'x numpy': (np.ones((5, 6)), r(5)), 'targ None': (r(5, 6), None), 'x list': ([[1.] * 6], r(1))}

@pytest.mark.parametrize('case', MODEL_X, ids=str)
def test_model_forward(case):
    m, ref = model_and_ref(); x, t = MODEL_X[case]
    expect(M, 'Model', lambda: m(x, t), ref=lambda: ref(x, t), what=case)

@pytest.mark.parametrize('case', MODEL_X_BAD, ids=str)
def test_model_forward_bad(case):
    m, _ = model_and_ref()
    expect(M, 'Model', lambda: m(*MODEL_X_BAD[case]), error=True, what=case)

def weights(k=5, h=3):
    return [r(k, h), r(h), r(h, 1), r(1)]

COPY_BAD = {'(1, 3) into (5, 3)': [r(1, 3), r(3), r(3, 1), r(1)], 'w1 transposed shape': [r(3, 5), r(3), r(3, 1), r(1)],
            'b1 scalar-like': [r(5, 3), r(1), r(3, 1), r(1)], 'w2 (3,)': [r(5, 3), r(3), r(3), r(1)], 'mixed dtypes': [*weights()[:3], r(1).double()],
            'int': [torch.ones(5, 3, dtype=torch.int64), torch.ones(3, dtype=torch.int64), torch.ones(3, 1, dtype=torch.int64), torch.ones(1, dtype=torch.int64)],
            'numpy': [np.ones((5, 3)), np.ones(3), np.ones((3, 1)), np.ones(1)], 'None': [None, r(3), r(3, 1), r(1)]}

def test_copy_into():
    ws = weights()
    m = Model(5, 3)
    expect(M, 'copy_into', lambda: [p.detach().clone() for p in copy_into(m, *ws).parameters()], ref=lambda: [ws[0].t(), ws[1], ws[2].t(), ws[3]])
    wt = [ws[0].t().contiguous().t(), *ws[1:]]               # non-contiguous, same values
    expect(M, 'copy_into', lambda: copy_into(Model(5, 3), *wt).layers[0].weight.detach().clone(), ref=lambda: ws[0].t(), what='non-contiguous')
    w64 = [w.double() for w in ws]                           # float64 weights are cast to the model's float32, as copy_ does
    expect(M, 'copy_into', lambda: copy_into(Model(5, 3), *w64).layers[2].weight.detach().clone(), ref=lambda: w64[2].t().float(), what='float64')

@pytest.mark.parametrize('case', COPY_BAD, ids=str)
def test_copy_into_bad(case): expect(M, 'copy_into', lambda: copy_into(Model(5, 3), *COPY_BAD[case]), error=True, what=case)

@pytest.mark.parametrize('model', [nn.Linear(5, 3), None, 'model', layers.Model(*weights())], ids=str)
def test_copy_into_bad_model(model): expect(M, 'copy_into', lambda: copy_into(model, *weights()), error=True, what=type(model).__name__)

def step_setup(n=4, k=5, h=3):
    gg = torch.Generator().manual_seed(1)
    ps = [init_weights(k, h, generator=gg), torch.zeros(h), init_weights(h, 1, generator=gg), torch.zeros(1)]
    return ps, torch.randn(n, k, generator=gg), torch.randn(n, generator=gg)

def sgd_reference(ps, x, y, lr):
    ts = [p.clone().requires_grad_() for p in ps]
    F.mse_loss((torch.relu(x @ ts[0] + ts[1]) @ ts[2] + ts[3]).reshape(-1), y).backward()
    return [(t - lr * t.grad).detach() for t in ts]

@pytest.mark.parametrize('n', [1, 4])
def test_train_steps(n):
    ps, x, y = step_setup(n)
    hand = layers.Model(*[p.clone() for p in ps])
    expect(M, 'train_step_hand', lambda: (train_step_hand(hand, x, y, 0.1), hand.params)[1], ref=lambda: sgd_reference(ps, x, y, 0.1), what=f"batch {n}")
    auto = copy_into(Model(5, 3), *ps)
    expect(M, 'train_step_autograd', lambda: (train_step_autograd(auto, x, y, 0.1), [p.detach().clone() for p in auto.parameters()])[1],
           ref=lambda: (lambda w: [w[0].t(), w[1], w[2].t(), w[3]])(sgd_reference(ps, x, y, 0.1)), what=f"batch {n}")

STEP_BAD = {'x k wrong': lambda x, y: (x[:, :2], y, 0.1), 'y short': lambda x, y: (x, y[:2], 0.1), 'n=0': lambda x, y: (x[:0], y[:0], 0.1),
            'x float64': lambda x, y: (x.double(), y, 0.1), 'x numpy': lambda x, y: (x.numpy(), y, 0.1), 'x None': lambda x, y: (None, y, 0.1),
            'lr nan': lambda x, y: (x, y, float('nan')), 'lr -1': lambda x, y: (x, y, -1.), 'lr str': lambda x, y: (x, y, '0.1'),
            'lr inf': lambda x, y: (x, y, float('inf')), 'lr None': lambda x, y: (x, y, None)}

@pytest.mark.parametrize('case', STEP_BAD, ids=str)
def test_train_steps_bad(case):
    ps, x, y = step_setup()
    expect(M, 'train_step_hand', lambda: train_step_hand(layers.Model(*ps), *STEP_BAD[case](x, y)), error=True, what=case)
    expect(M, 'train_step_autograd', lambda: train_step_autograd(copy_into(Model(5, 3), *ps), *STEP_BAD[case](x, y)), error=True, what=case)

@pytest.mark.parametrize('model', [None, 'm', nn.Linear(5, 1)], ids=str)
def test_train_step_hand_bad_model(model):
    ps, x, y = step_setup()
    expect(M, 'train_step_hand', lambda: train_step_hand(model, x, y, 0.1), error=True, what=type(model).__name__)
    if not isinstance(model, nn.Module): expect(M, 'train_step_autograd', lambda: train_step_autograd(model, x, y, 0.1), error=True, what=type(model).__name__)

@settings(max_examples=20, deadline=None, derandomize=True)
@given(st.integers(1, 8), st.integers(1, 6), st.integers(1, 6), st.integers(0, 2**16))
def test_model_matches_reference_any_size(n, k, h, seed):
    torch.manual_seed(seed); m = Model(k, h)
    gg = torch.Generator().manual_seed(seed)
    x, t = torch.randn(n, k, generator=gg), torch.randn(n, generator=gg)
    expect(M, 'Model', lambda: m(x, t), ref=lambda: F.mse_loss(m.layers(x).reshape(-1), t), what=f"{n, k, h, seed}")
