"""The generated bad-input sweep: for every public tensor-taking function, cases drawn by hypothesis, each checked against
its torch or NumPy twin.

Each `Entry` names a function, how to call it, and its twin: the same computation done by torch or NumPy (`a @ b`,
`torch.einsum`, `F.conv2d`, autograd of `torch.relu`, a float64 reference for the NumPy port). A case gives each tensor
argument a recipe (`strategies.T` or `strategies.A`: dtype, layout, special value, device, container, requires_grad, a
wrong shape) and each number argument one of its variants (NumPy scalars, `Fraction`, NaN, str, ...). Every case goes
through `harness.outcome` and its one rule: the twin's result or a `TypeError`/`ValueError` that names the function.
"The twin's result" means the same value (NaN where it has NaN), dtype, shape and device, a result that aliases an input
only where the twin's does, and no input changed; where the twin itself fails (torch has no kernel for the dtype, say),
only a clear error is right, unless the entry has a `widen` reference (the same computation in a wider dtype, cast back).

Two passes per function: corners (every dtype, then every layout, special value, device and container for each argument
in turn, every number variant, sizes 0 and 1) and `max_examples` hypothesis draws that combine them. A test collects
every failing call and fails once with the whole list, so one run shows all of them.
"""
from scratchnet.checks import COMPUTABLE
import copy, gzip, math, numbers, shutil, struct, tempfile, warnings
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
import numpy as np
import torch, pytest
import torch.nn.functional as F
from torch import nn
from hypothesis import given, settings, HealthCheck, strategies as st
from matplotlib.figure import Figure
from harness import outcome, aliases
from strategies import (T, A, TORCH_DTYPES, NP_DTYPES, LAYOUTS, NP_LAYOUTS, SPECIALS, CONTAINERS, NP_CONTAINERS, AXES, NP_AXES,
                        LOW_PRECISION, build_tensor, build_array, describe_spec, real_variants, show, short, tensor_specs,
                        array_specs, focuses, einsum_specs)
from scratchnet import (matmul as mm, broadcasting as bc, einsum as es, init, backward as bw, layers, modules, training as tr,
                        conv, fast, npnet, data, mnist)

# ---------------------------------------------------------------- entries
@dataclass
class Arg:
    "One tensor (or array) argument: its shape pattern ('n k', '*' for any shape), its default recipe, and class labels."
    pattern: str
    default: object = T()
    labels: object = None          # a size name or a number: draw labels 0..labels-1 instead of small integers

class Fresh:
    "A number-argument variant that must be made anew for every call (a generator, a model)."
    def __init__(self, make, label): self.make, self.label = make, label
    def __repr__(self): return self.label

@dataclass
class Entry:
    module: str                    # the key of harness.COUNTS
    name: str                      # what errors must name
    call: object                   # call(**args) -> result
    twin: object                   # twin(**args) -> the reference (may raise: then only a clear error is right)
    args: dict = field(default_factory=dict)       # name -> Arg
    sizes: dict = field(default_factory=dict)      # size name -> default
    scalars: dict = field(default_factory=dict)    # name -> candidate values, the default first
    lib: str = 'torch'
    widen: object = None           # widen(**args): the reference computed in a wider dtype, for dtypes the twin cannot do
    grad: bool = False             # the result must require grad exactly when the twin's does
    contiguous: bool = False       # the result must be contiguous where the twin's is (F.conv2d's layout)
    pure: bool = True              # the inputs must hold the same values afterwards
    reduces: bool = False          # sums products: 'huge' in float16 overflows at torch's discretion, so not drawn there
    examples: int = 25             # hypothesis draws after the corners
    tol: tuple = None              # (rtol, atol) for every float compared, instead of the dtype's
    cases: object = None           # a custom case strategy (einsum)
    corners: object = None         # a custom corner list (einsum)
    prep: object = None            # prep(args) -> args: what the learner does before the call (build a model, write a file)
    id: str = ''
    variant: str = ''              # a second entry for the same function ('double backward') says so in its failures

ENTRIES = []
def entry(module, name, call, twin, **kw):
    e = Entry(module, name, call, twin, **kw)
    e.id = e.id or f"{module}.{name}"
    ENTRIES.append(e)
    return e

# ---------------------------------------------------------------- twin helpers
def plain(v):
    "A number as a twin reads it: a whole number as int, another real as float (Fraction, NumPy scalars); tuples element-wise."
    if isinstance(v, bool) or isinstance(v, (torch.Tensor, np.ndarray)): return v
    if isinstance(v, numbers.Integral): return int(v)
    if isinstance(v, numbers.Real): return float(v)
    if isinstance(v, (tuple, list)): return type(v)(plain(x) for x in v)
    return v

def tensor(*ts):
    "Refuse what is not a tensor (a twin's own check: torch functions refuse lists too)."
    for t in ts:
        if not isinstance(t, torch.Tensor): raise TypeError(f"not a tensor: {type(t).__name__}")

def leaf(t):
    "A fresh leaf that requires grad, with the values, dtype, device and strides of tensor `t`."
    tensor(t)
    return t.detach().clone().requires_grad_()

def grad_of(y, xs, g=None):
    "Autograd's gradients of `y` (upstream gradient `g`) with respect to the leaves `xs`."
    return torch.autograd.grad(y, xs, g)

def wide(t):
    "`t` in the widest dtype of its kind: int64, float64 or complex128."
    return t.to(torch.complex128 if t.is_complex() else torch.float64 if t.is_floating_point() else torch.int64)

def upstream(shape, dtype, device, special=None, seed=7):
    "A seeded upstream gradient of `shape`, as a recipe builds it (with `special` in it)."
    return build_tensor(T(dtype=dtype, special=special, seed=seed), shape)[0].to(device)

class Loose:
    """A reference known only by its type, shape, dtype and device: its values cannot be compared (an unseeded generator,
    finite differences far from 0, float16 that overflows where the float64 reference does not)."""
    def __init__(self, t): self.t = t

class Fig:
    "A reference that is a matplotlib Figure with `n_axes` axes."
    def __init__(self, n_axes): self.n_axes = n_axes

def ref_matmul(a, b):
    tensor(a, b)
    dt = torch.result_type(a, b)
    return a.to(dt) @ b.to(dt)

def widen_matmul(a, b):
    tensor(a, b)
    dt = torch.result_type(a, b)
    wa, wb = wide(a), wide(b)
    w = torch.promote_types(wa.dtype, wb.dtype)
    return (wa.to(w) @ wb.to(w)).to(dt)

def mse_ref(output, targ):
    tensor(output, targ)
    n = len(targ) if targ.ndim == 1 else -1
    if output.shape not in ((n,), (n, 1)): raise ValueError('shapes')
    return F.mse_loss(output.reshape(n), targ)

def net_loss(x, w1, b1, w2, b2, targ):
    "The book's two-layer net and its mse loss, in torch."
    out = torch.relu(x @ w1 + b1) @ w2 + b2
    if out.shape != (len(targ), 1): raise ValueError('shapes')
    return F.mse_loss(out[:, 0], targ)

def net_grads(inp, targ, w1, b1, w2, b2, loss_fn=None):
    "The loss and its gradients for inp, w1, b1, w2, b2, by autograd (`loss_fn(out, targ)` in place of F.mse_loss if given)."
    tensor(targ)
    ls = [leaf(t) for t in (inp, w1, b1, w2, b2)]
    loss = net_loss(*ls, targ) if loss_fn is None else loss_fn(torch.relu(ls[0] @ ls[1] + ls[2]) @ ls[3] + ls[4], targ)
    return (loss.detach(), *grad_of(loss, ls))

def ce_ref(inp, targ):
    "F.cross_entropy with integer labels of any integer dtype (it wants int64)."
    tensor(inp, targ)
    if targ.dtype == torch.bool or targ.is_floating_point() or targ.is_complex(): raise TypeError('labels must be integers')
    return F.cross_entropy(inp, targ.long())

def conv_ref(x, weight, bias, stride, padding, dilation, bias_mode='tensor'):
    tensor(x, weight)
    return F.conv2d(x, weight, None if bias_mode == 'none' else bias, plain(stride), plain(padding), plain(dilation))

# ---------------------------------------------------------------- matmul, broadcasting, einsum
NK = dict(n=3, k=2, m=2)
MATMUL = dict(args=dict(a=Arg('n k'), b=Arg('k m')), sizes=NK, widen=widen_matmul, grad=True, reduces=True)
for mod, f in (('matmul', mm.matmul_loops), ('matmul', mm.matmul_elementwise), ('broadcasting', bc.matmul_broadcast),
               ('einsum', es.matmul_einsum), ('einsum', es.matmul_scratch_einsum)):
    entry(mod, f.__name__, f, ref_matmul, **MATMUL)
entry('einsum', 'matmul_numba', es.matmul_numba, ref_matmul, **{**MATMUL, 'examples': 10})

def neuron_ref(x, w, b):
    tensor(x, w)
    dt = torch.result_type(x, w)
    return torch.relu(x.to(dt) @ w.to(dt) + plain(b))
entry('matmul', 'neuron', lambda x, w, b: mm.neuron(x, w, b), neuron_ref, args=dict(x=Arg('n'), w=Arg('n')), sizes=dict(n=3),
      scalars=dict(b=real_variants(0.5)), grad=True, reduces=True)

def rows(m):
    "A list of rows of numbers as a 2-D object array (what Python's own arithmetic gives on it); else a TypeError/ValueError."
    if not isinstance(m, (list, tuple)) or not all(isinstance(r, (list, tuple)) for r in m): raise TypeError('not a list of rows')
    if len({len(r) for r in m}) > 1: raise ValueError('ragged')
    out = np.empty((len(m), len(m[0]) if m else 0), dtype=object)
    for i, r in enumerate(m):
        for j, v in enumerate(r):
            if not isinstance(v, numbers.Number): raise TypeError('not a number')
            out[i, j] = v
    return out

def matmul_python_ref(a, b):
    ra, rb = rows(a), rows(b)
    if ra.shape[1] != rb.shape[0] and ra.shape[0]: raise ValueError('inner sizes')
    if ra.shape[0] == 0: return []
    return (ra @ rb).tolist()

def dense_python_ref(x, w, b):
    out, rb = matmul_python_ref(x, w), rows([b])
    if rb.shape[1] != rows(w).shape[1]: raise ValueError('bias length')
    return [[v + bj for v, bj in zip(r, b)] for r in out]

LISTS = T(dtype=torch.int64, container='list')
entry('matmul', 'matmul_python', lambda a, b: mm.matmul_python(a, b), matmul_python_ref,
      args=dict(a=Arg('n k', LISTS), b=Arg('k m', LISTS)), sizes=NK)
entry('matmul', 'dense_python', lambda x, w, b: mm.dense_python(x, w, b), dense_python_ref,
      args=dict(x=Arg('n k', LISTS), w=Arg('k m', LISTS), b=Arg('m', LISTS)), sizes=NK)

NOSHAPE = object()
SHAPES = [(2, 3), NOSHAPE, (3,), 1, (1, 3), (), (0,), (2, 1), [2, 3], torch.Size([2, 3]), (np.int64(2), 3), np.int64(3), (2.0,),
          (Fraction(2),), (-1,), (True,), 'ab', None, np.array([2, 3]), (2**40,), (3, 0)]
def broadcast_call(s1, s2, s3): return bc.broadcast_shapes(*[s for s in (s1, s2, s3) if s is not NOSHAPE])
def broadcast_ref(s1, s2, s3): return tuple(torch.broadcast_shapes(*[plain(s) for s in (s1, s2, s3) if s is not NOSHAPE]))
entry('broadcasting', 'broadcast_shapes', broadcast_call, broadcast_ref,
      scalars=dict(s1=SHAPES, s2=[(3,)] + SHAPES, s3=[NOSHAPE] + SHAPES), examples=40)

def promote(ops):
    dt = ops[0].dtype
    for o in ops[1:]: dt = torch.promote_types(dt, o.dtype)
    return dt

def einsum_ops(kw): return [kw[f'op{i}'] for i in range(3) if f'op{i}' in kw]

def einsum_ref(spec, form, **kw):
    ops = einsum_ops(kw)
    tensor(*ops)
    dt = promote(ops)
    return torch.einsum(spec, *[o.to(dt) for o in ops])

def einsum_widen(spec, form, **kw):
    ops = einsum_ops(kw)
    tensor(*ops)
    dt, w = promote(ops), promote([wide(o) for o in ops])
    return torch.einsum(spec, *[wide(o).to(w) for o in ops]).to(dt)

def einsum_call(f):
    def call(spec, form, **kw):
        ops = einsum_ops(kw)
        return f(spec, ops) if form == 'one list' else f(spec, *ops)
    return call

EINSUM_CORNERS = [('ij,jk->ik', [(3, 2), (2, 2)]), ('ij', [(2, 3)]), ('ij->ij', [(2, 3)]), ('...', [(2, 3)]), ('ij->ji', [(2, 3)]),
                  ('ii->i', [(3, 3)]), ('ii', [(3, 3)]), ('ij->', [(2, 3)]), ('i,i', [(3,), (3,)]), ('i,j->ij', [(2,), (3,)]),
                  ('bij,bjk->bik', [(2, 3, 2), (2, 2, 3)]), ('ij,ij->j', [(10, 2), (1, 2)]), ('...ij,...jk', [(2, 1, 3), (4, 3, 2)]),
                  ('. ..', [(2, 3)]), ('ij , jk', [(3, 2), (2, 2)]), ('i->ii', [(3,)]), ('ij,jk', [(3, 2), (3, 2)]), ('i', [(0,)]),
                  ('ij,jk->ik', [(0, 2), (2, 0)]), ('ij,jk->ik', [(3, 0), (0, 2)]), ('ijk', [(1, 1, 1)])]
for mod, f in (('einsum', es.einsum), ('fast', fast.einsum)):
    entry(mod, 'einsum', einsum_call(f), einsum_ref, args={f'op{i}': Arg('') for i in range(3)}, widen=einsum_widen, grad=True,
          reduces=True, scalars=dict(form=['operands', 'one list']), corners=EINSUM_CORNERS, cases=einsum_specs(), examples=60,
          id=f'{mod}.einsum')

# ---------------------------------------------------------------- init
def relu_ref(x): tensor(x); return torch.relu(x)
entry('init', 'lin', lambda x, w, b: init.lin(x, w, b), lambda x, w, b: (tensor(x, w, b), x @ w + b)[1],
      args=dict(x=Arg('n k'), w=Arg('k m'), b=Arg('m')), sizes=NK, grad=True, reduces=True)
entry('init', 'relu', lambda x: init.relu(x), relu_ref, args=dict(x=Arg('*')), sizes={'*': (2, 3)}, grad=True)

STD = {'normal': lambda n: 1.0, 'xavier': lambda n: 1 / math.sqrt(n), 'kaiming': lambda n: math.sqrt(2 / n)}
def init_weights_ref(n_in, n_out, kind, generator, dtype, device):
    n_in, n_out, std = plain(n_in), plain(n_out), STD[kind]
    dev = torch.device('cpu' if device is None else device)
    if dev.type == 'meta' and (generator is None or isinstance(generator, (numbers.Integral, torch.Generator))) and not isinstance(generator, bool):
        return Loose(torch.randn(n_in, n_out, dtype=dtype, device=dev))     # meta: a shape, no values, so no generator is needed
    if isinstance(generator, numbers.Integral) and not isinstance(generator, bool):
        generator = torch.Generator(dev).manual_seed(int(generator) % 2**63)
    t = torch.randn(n_in, n_out, generator=generator, dtype=dtype, device=dev) * std(n_in)
    return Loose(t) if generator is None else t
entry('init', 'init_weights', init.init_weights, init_weights_ref,
      scalars=dict(n_in=real_variants(3), n_out=real_variants(2), kind=['kaiming', 'xavier', 'normal', 'he', None, 1],
                   generator=[0, None, np.int64(3), 2**70, -1, Fresh(lambda: torch.Generator().manual_seed(3), 'Generator(seed 3)'),
                              Fresh(lambda: torch.Generator('meta'), "Generator('meta')"), 'seed', 1.5, True],
                   dtype=[None] + TORCH_DTYPES[:16] + [np.float32, 'float32'],
                   device=[None, 'cpu', torch.device('cpu'), 'meta', 'cuda', 'gpu9', 3.5, 0]), examples=40)

# ---------------------------------------------------------------- backward
def mse_grad_call(inp, targ): bw.mse_grad(inp, targ); return inp.g
def mse_grad_ref(inp, targ):
    x = leaf(inp)
    return grad_of(mse_ref(x, targ), x)[0]
MSE = dict(args=dict(output=Arg('n 1'), targ=Arg('n')), sizes=dict(n=3))
entry('backward', 'mse', bw.mse, mse_ref, grad=True, **MSE)
entry('backward', 'mse_grad', lambda output, targ: mse_grad_call(output, targ), lambda output, targ: mse_grad_ref(output, targ), **MSE)

def set_g(out, g):
    "Give `out` its upstream gradient `.g`, as the backward step after it would (a list cannot hold one)."
    try: out.g = g
    except AttributeError: pass
    return out

def lin_grad_call(inp, out, w, b, g):
    bw.lin_grad(inp, set_g(out, g), w, b)
    return inp.g, w.g, b.g
def lin_grad_ref(inp, out, w, b, g):
    tensor(out)
    x, w_, b_ = leaf(inp), leaf(w), leaf(b)
    y = x @ w_ + b_
    if out.shape != y.shape: raise ValueError('out is not shaped like inp @ w + b')
    return grad_of(y, (x, w_, b_), g)
entry('backward', 'lin_grad', lin_grad_call, lin_grad_ref, sizes=NK, reduces=True,
      args=dict(inp=Arg('n k'), out=Arg('n m'), w=Arg('k m'), b=Arg('m'), g=Arg('n m')))

def relu_grad_call(inp, out, g): bw.relu_grad(inp, set_g(out, g)); return inp.g
def relu_grad_ref(inp, out, g):
    tensor(out)
    x = leaf(inp)
    y = torch.relu(x)
    if out.shape != y.shape: raise ValueError('out is not shaped like inp')
    return grad_of(y, x, g)[0]
entry('backward', 'relu_grad', relu_grad_call, relu_grad_ref, args=dict(inp=Arg('*'), out=Arg('*'), g=Arg('*')), sizes={'*': (2, 3)})

NET = dict(args=dict(inp=Arg('n k'), targ=Arg('n'), w1=Arg('k h'), b1=Arg('h'), w2=Arg('h 1'), b2=Arg('1')), sizes=dict(n=3, k=2, h=2),
           reduces=True)
def fab_call(inp, targ, w1, b1, w2, b2):
    loss = bw.forward_and_backward(inp, targ, w1, b1, w2, b2)
    return (loss, inp.g, w1.g, b1.g, w2.g, b2.g)
entry('backward', 'forward_and_backward', fab_call, net_grads, **NET)
# autograd_grads is autograd applied to the lesson's own `mse`, `(out - targ).pow(2).mean()`: its twin is autograd of that
# same formula (F.mse_loss's hand-made backward scales by 2/n before multiplying, so near the float limit the two differ)
entry('backward', 'autograd_grads', bw.autograd_grads,
      lambda **kw: dict(zip(['inp', 'w1', 'b1', 'w2', 'b2'], net_grads(**kw, loss_fn=bw.mse)[1:])), **NET)

def coef(shape): return (torch.arange(math.prod(shape), dtype=torch.float64) % 5 - 2).reshape(shape)
LINEAR = Fresh(lambda: lambda t: (t * coef(t.shape).to(t.device)).sum(), 'f=sum(coef·x)')
def numerical_grad_ref(f, x, eps):
    "Autograd's gradient; where x is not finite or large, finite differences cannot match it: only shape, dtype and device then."
    tensor(x)
    if x.is_complex(): raise TypeError('complex')
    xd = x.detach().to(torch.float64).requires_grad_()
    g = grad_of(f(xd), xd)[0]
    return g if x.is_meta or not x.numel() or xd.detach().abs().max() < 1e3 else Loose(g)
entry('backward', 'numerical_grad', lambda f, x, eps: bw.numerical_grad(f, x, eps), numerical_grad_ref, args=dict(x=Arg('*', T(torch.float64))),
      sizes={'*': (2, 3)}, scalars=dict(f=[LINEAR, Fresh(lambda: lambda t: t * 2, 'f=2x (not a scalar)'), 'f'], eps=real_variants(1e-6)),
      tol=(1e-5, 1e-6))

def grad_table_call(ours, ref, rtol, form):
    pairs = {'w': (ours, ref)} if form == 'dict' else [('w', ours, ref)]
    return [(r['name'], r['shape'], r['close']) for r in bw.grad_table(pairs, rtol=rtol, atol=1e-5, show=False)]
def grad_table_ref(ours, ref, rtol, form):
    tensor(ours, ref)
    if ours.shape != ref.shape: raise ValueError('shapes')
    up = lambda t: t.detach().to(torch.complex128 if t.is_complex() else torch.float64)
    return [('w', tuple(ours.shape), torch.allclose(up(ours), up(ref), rtol=plain(rtol), atol=1e-5))]
entry('backward', 'grad_table', grad_table_call, grad_table_ref, args=dict(ours=Arg('*'), ref=Arg('*', T(seed=1))), sizes={'*': (2, 3)},
      scalars=dict(rtol=real_variants(1e-4), form=['dict', 'list']))

# ---------------------------------------------------------------- layers (and fast's Lin and Model), modules
def relu_layer_call(inp, g):
    l = layers.Relu()
    out = l(inp); out.g = g; l.backward()
    return out, inp.g
def relu_layer_ref(inp, g):
    x = leaf(inp)
    y = torch.relu(x)
    return y.detach(), grad_of(y, x, g)[0]
entry('layers', 'Relu', relu_layer_call, relu_layer_ref, args=dict(inp=Arg('*'), g=Arg('*')), sizes={'*': (2, 3)})

def lin_layer_call(cls):
    def call(inp, w, b, g):
        l = cls(w, b)
        out = l(inp); out.g = g; l.backward()
        return out, inp.g, w.g, b.g
    return call
def lin_layer_ref(inp, w, b, g):
    ls = [leaf(t) for t in (inp, w, b)]
    y = ls[0] @ ls[1] + ls[2]
    return (y.detach(), *grad_of(y, ls, g))
LIN = dict(args=dict(inp=Arg('n k'), w=Arg('k m'), b=Arg('m'), g=Arg('n m')), sizes=NK, reduces=True)
entry('layers', 'Lin', lin_layer_call(layers.Lin), lin_layer_ref, **LIN)
entry('fast', 'Lin', lin_layer_call(fast.Lin), lin_layer_ref, **LIN)

def loss_layer_call(cls):
    "A hand-written loss layer called on `inp, targ`, then its backward pass: the loss and `inp.g`."
    def call(inp, targ):
        l = cls()
        loss = l(inp, targ); l.backward()
        return loss, inp.g
    return call
def loss_layer_ref(ref):
    "The same from autograd, for the reference loss `ref`."
    def call(inp, targ):
        x = leaf(inp)
        loss = ref(x, targ)
        return loss.detach(), grad_of(loss, x)[0]
    return call
mse_layer_call, mse_layer_ref = loss_layer_call(layers.Mse), loss_layer_ref(mse_ref)
entry('layers', 'Mse', lambda output, targ: mse_layer_call(output, targ), lambda output, targ: mse_layer_ref(output, targ), **MSE)

def model_call(cls):
    def call(inp, targ, w1, b1, w2, b2):
        m = cls(w1, b1, w2, b2)
        loss = m(inp, targ); m.backward()
        return (loss, inp.g, w1.g, b1.g, w2.g, b2.g)
    return call
entry('layers', 'Model', model_call(layers.Model), net_grads, **NET)
entry('fast', 'Model', model_call(fast.Model), net_grads, **NET)

def as_leaf(t):
    "A tensor argument as a leaf that requires grad (what autograd.Function's users pass), anything else as it is."
    return t.detach().requires_grad_() if isinstance(t, torch.Tensor) and (t.is_floating_point() or t.is_complex()) and not t.is_quantized else t

def myrelu_call(i, g):
    x = as_leaf(i)
    y = modules.MyRelu.apply(x)
    return y.detach(), grad_of(y, x, g)[0]
def myrelu_ref(i, g):
    x = leaf(i)
    y = torch.relu(x)
    return y.detach(), grad_of(y, x, g)[0]
def double(f):
    "Differentiate `f`'s gradient once more: d(sum(∂y/∂x·g))/dg, the mask that ReLU lets through."
    def call(i, g):
        x, gg = as_leaf(i), as_leaf(g)
        (gx,) = torch.autograd.grad(f(x), x, gg, create_graph=True)
        return torch.autograd.grad(gx.sum(), gg)[0]
    return call
def upstream_tensor(args):
    """The upstream gradient goes to torch.autograd.grad, not to the function under test: only tensors make a case, and
    only on the input's device (autograd itself refuses another device before any code of ours runs)."""
    tensor(args['g'])
    if isinstance(args['i'], torch.Tensor) and args['g'].device != args['i'].device: raise TypeError('not a case: devices')
    if str(args['g'].dtype).removeprefix('torch.') not in COMPUTABLE: raise TypeError('not a case: autograd casts g first')
    return args
entry('modules', 'MyRelu', myrelu_call, myrelu_ref, args=dict(i=Arg('*'), g=Arg('*')), sizes={'*': (2, 3)}, prep=upstream_tensor)
entry('modules', 'MyRelu', double(modules.MyRelu.apply), lambda i, g: (tensor(i, g), double(torch.relu)(i, g))[1],
      args=dict(i=Arg('*'), g=Arg('*')), sizes={'*': (2, 3)}, prep=upstream_tensor, id='modules.MyRelu (double backward)', variant='double backward', examples=10)

def seeded(make):
    "Build a module under a fixed torch seed, leaving the global generator as it was."
    with torch.random.fork_rng():
        torch.manual_seed(0)
        return make()

def linear_layer_call(x, n_in, n_out): return seeded(lambda: modules.LinearLayer(n_in, n_out))(x)
def linear_layer_ref(x, n_in, n_out):
    l = seeded(lambda: modules.LinearLayer(plain(n_in), plain(n_out)))
    tensor(x)
    return x @ l.weight.t() + l.bias
entry('modules', 'LinearLayer', linear_layer_call, linear_layer_ref, args=dict(x=Arg('n 3')), sizes=dict(n=2),
      scalars=dict(n_in=real_variants(3), n_out=real_variants(2)), grad=True, reduces=True)

def torch_model_call(x, targ, n_in, nh): return seeded(lambda: modules.Model(n_in, nh))(x, targ)
def torch_model_ref(x, targ, n_in, nh):
    m = seeded(lambda: modules.Model(plain(n_in), plain(nh)))
    tensor(x, targ)
    out = m.layers(x)
    if out.shape != (len(targ), 1): raise ValueError('shapes')
    return F.mse_loss(out[:, 0], targ)
entry('modules', 'Model', torch_model_call, torch_model_ref, args=dict(x=Arg('n 3'), targ=Arg('n')), sizes=dict(n=2),
      scalars=dict(n_in=real_variants(3), nh=real_variants(2)), grad=True, reduces=True)

def copy_into_call(w1, b1, w2, b2):
    m = modules.copy_into(seeded(lambda: modules.Model(3, 2)), w1, b1, w2, b2)
    return [p.detach() for p in m.parameters()]
def copy_into_ref(w1, b1, w2, b2):
    m = seeded(lambda: modules.Model(3, 2))
    with torch.no_grad():
        for lyr, w, b in ((m.layers[0], w1, b1), (m.layers[2], w2, b2)):
            tensor(w, b)
            if w.t().shape != lyr.weight.shape or b.shape != lyr.bias.shape: raise ValueError('shapes')
            lyr.weight.copy_(w.t()); lyr.bias.copy_(b)
    return [p.detach() for p in m.parameters()]
entry('modules', 'copy_into', copy_into_call, copy_into_ref, args=dict(w1=Arg('3 h'), b1=Arg('h'), w2=Arg('h 1'), b2=Arg('1')),
      sizes=dict(h=2))

def train_hand_call(x, y, w1, b1, w2, b2, lr, model):
    loss = modules.train_step_hand(model, x, y, lr)
    return [loss] + [p.detach().clone() for p in (w1, b1, w2, b2)]
def train_hand_ref(x, y, w1, b1, w2, b2, lr, model):
    loss, *gs = net_grads(x, y, w1, b1, w2, b2)
    lr = plain(lr)
    return [loss] + [(p - lr * g).detach() for p, g in zip((w1, b1, w2, b2), gs[1:])]
entry('modules', 'train_step_hand', train_hand_call, train_hand_ref, pure=False, reduces=True,
      prep=lambda args: {**args, 'model': layers.Model(*[args[k] for k in ('w1', 'b1', 'w2', 'b2')])},
      args=dict(x=Arg('n k'), y=Arg('n'), w1=Arg('k h'), b1=Arg('h'), w2=Arg('h 1'), b2=Arg('1')), sizes=dict(n=3, k=2, h=2),
      scalars=dict(lr=real_variants(0.1)))

def small_model():
    "A `modules.Model(3, 2)` with seeded weights."
    return seeded(lambda: modules.Model(3, 2))
def train_autograd_call(x, y, lr):
    m = small_model()
    loss = modules.train_step_autograd(m, x, y, lr)
    return [loss.detach()] + [p.detach().clone() for p in m.parameters()]
def train_autograd_ref(x, y, lr):
    m = small_model()
    tensor(x, y)
    ps = list(m.parameters())
    out = m.layers(x)
    if out.shape != (len(y), 1): raise ValueError('shapes')
    loss = bw.mse(out, y)                  # the model's own loss, through autograd (see autograd_grads above)
    gs = grad_of(loss, ps)
    return [loss.detach()] + [(p - plain(lr) * g).detach() for p, g in zip(ps, gs)]
entry('modules', 'train_step_autograd', train_autograd_call, train_autograd_ref, args=dict(x=Arg('n 3'), y=Arg('n')), sizes=dict(n=3),
      scalars=dict(lr=real_variants(0.1)), reduces=True, pure=False)

# ---------------------------------------------------------------- training
LOGITS = dict(args=dict(x=Arg('n c')), sizes=dict(n=3, c=4), grad=True)
entry('training', 'logsumexp', tr.logsumexp, lambda x: (tensor(x), torch.logsumexp(x, 1))[1], **LOGITS)
entry('training', 'log_softmax', tr.log_softmax, lambda x: (tensor(x), F.log_softmax(x, 1))[1], **LOGITS)
LABELS = T(dtype=torch.int64)
CE = dict(args=dict(inp=Arg('n c'), targ=Arg('n', LABELS, labels='c')), sizes=dict(n=3, c=4))
entry('training', 'cross_entropy', tr.cross_entropy, ce_ref, grad=True, **CE)
entry('training', 'cross_entropy', loss_layer_call(tr.CrossEntropy), loss_layer_ref(ce_ref), id='training.CrossEntropy', variant='CrossEntropy layer', **CE)   # its forward is cross_entropy
def accuracy_ref(preds, targ):
    tensor(preds, targ)
    return (preds.argmax(dim=1) == targ).float().mean()
entry('training', 'accuracy', lambda preds, targ: tr.accuracy(preds, targ), accuracy_ref,
      args=dict(preds=Arg('n c'), targ=Arg('n', LABELS, labels='c')), sizes=dict(n=3, c=4))

def seeded_linear(dtype=torch.float32):
    "An nn.Linear(3, 4) with weights from its own seeded generator."
    lin = nn.Linear(3, 4)
    g = torch.Generator().manual_seed(5)
    with torch.no_grad():
        for p in lin.parameters(): p.copy_(torch.randn(p.shape, generator=g))
    return lin.to(dtype)
def hand_classifier():
    "A hand-written `layers.Model` 3 → 2 → 4 with a cross-entropy loss and seeded weights."
    g = torch.Generator().manual_seed(6)
    return layers.Model(*[torch.randn(s, generator=g) for s in ((3, 2), (2,), (2, 4), (4,))], loss=tr.CrossEntropy())
MODELS = [Fresh(seeded_linear, 'nn.Linear(3, 4)'), Fresh(hand_classifier, 'layers.Model(3→2→4, CrossEntropy)'),
          Fresh(lambda: seeded_linear(torch.float64), 'nn.Linear(3, 4).double()'), Fresh(lambda: nn.ReLU(), 'nn.ReLU()'), 'model']

def logits_of(model, x):
    "What a model of MODELS computes, in plain torch."
    if isinstance(model, nn.Linear): return F.linear(x, model.weight, model.bias)
    if isinstance(model, layers.Model):
        w1, b1, w2, b2 = model.params
        return torch.relu(x @ w1 + b1) @ w2 + b2
    raise TypeError('not a classifier')

def evaluate_ref(model, x, y, bs):
    tensor(x, y)
    with torch.no_grad():
        logits = logits_of(model, x)
        return ce_ref(logits, y).item(), accuracy_ref(logits, y).item()
entry('training', 'evaluate', lambda model, x, y, bs: tr.evaluate(model, x, y, bs=bs), evaluate_ref,
      args=dict(x=Arg('n 3'), y=Arg('n', LABELS, labels=4)), sizes=dict(n=3),
      scalars=dict(model=MODELS, bs=real_variants(2) + [1024]), tol=(1e-4, 1e-6))

def fit_call(model, x_train, y_train, x_valid, y_valid, epochs, lr, bs, momentum, seed):
    h = tr.fit(model, (x_train, y_train, x_valid, y_valid), epochs=epochs, lr=lr, bs=bs, momentum=momentum, seed=seed, progress=False)
    params = list(model.parameters()) if isinstance(model, nn.Module) else model.params
    return dict(train_loss=h['train_loss'], valid_loss=h['valid_loss'], valid_acc=h['valid_acc'], params=[p.detach() for p in params])
def fit_ref(model, x_train, y_train, x_valid, y_valid, epochs, lr, bs, momentum, seed):
    "SGD with momentum, one batch per epoch (bs covers the data, so the shuffle cannot change a step)."
    epochs, lr, momentum, bs = plain(epochs), plain(lr), plain(momentum), plain(bs)
    if not isinstance(epochs, int) or epochs > 10 or not isinstance(bs, int) or bs < len(x_train): raise ValueError('outside what the twin runs')
    tensor(x_train, y_train, x_valid, y_valid)
    ps = [p.detach().clone().requires_grad_() for p in (model.parameters() if isinstance(model, nn.Module) else model.params)]
    m = copy.deepcopy(model) if isinstance(model, nn.Module) else model
    vs, hist = [torch.zeros_like(p) for p in ps], dict(train_loss=[], valid_loss=[], valid_acc=[])
    for _ in range(epochs):
        if isinstance(m, nn.Linear): m.weight, m.bias = [nn.Parameter(p) for p in ps]; ps = [m.weight, m.bias]
        else: m.layers[0].w, m.layers[0].b, m.layers[2].w, m.layers[2].b = ps
        loss = ce_ref(logits_of(m, x_train), y_train)
        gs = grad_of(loss, ps)
        with torch.no_grad():
            vs = [momentum * v + g for v, g in zip(vs, gs)] if momentum else list(gs)
            ps = [(p - lr * v).requires_grad_() for p, v in zip(ps, vs)]
        hist['train_loss'].append(loss.item())
        if isinstance(m, nn.Linear): m.weight, m.bias = [nn.Parameter(p) for p in ps]
        else: m.layers[0].w, m.layers[0].b, m.layers[2].w, m.layers[2].b = ps
        v_loss, v_acc = evaluate_ref(m, x_valid, y_valid, None)
        hist['valid_loss'].append(v_loss); hist['valid_acc'].append(v_acc)
    return dict(**hist, params=[p.detach() for p in ps])
entry('training', 'fit', fit_call, fit_ref, pure=False, tol=(1e-4, 1e-6), examples=15,
      args=dict(x_train=Arg('n 3'), y_train=Arg('n', LABELS, labels=4), x_valid=Arg('v 3', T(seed=1)), y_valid=Arg('v', T(torch.int64, seed=1), labels=4)),
      sizes=dict(n=3, v=2),
      scalars=dict(model=MODELS, epochs=[2, 1, np.int64(2), 0, 10**9, 2.0, True, Fraction(2), -1, None, '2'],
                   lr=real_variants(0.1), bs=[64, np.int64(64), 64.0, 0, True, None, '64', 10**30],
                   momentum=[0.0, 0.5, np.float32(0.5), Fraction(1, 2), 1, 1.5, math.nan, '0.5', None],
                   seed=[0, np.int64(3), -1, 2**64 - 1, 2**64, 2.5, None, '0', True]))

# ---------------------------------------------------------------- conv (and fast's convolution)
CONV_ARGS = dict(x=Arg('n c h w'), weight=Arg('o c kh kw', T(seed=1)), bias=Arg('o', T(seed=2)))
CONV_SIZES = dict(n=2, c=2, h=4, w=3, o=2, kh=2, kw=2)
CONV_SCALARS = dict(stride=[1] + real_variants(1)[1:] + [2, (1, 2), [2, 1], (1, 1, 1)], padding=[0, 1, (0, 1), np.int64(1), -1, 1.5, 'same', 10**6],
                    dilation=[1, 2, np.int64(2), 0, (1, 2), 1.0], bias_mode=['tensor', 'none'])
entry('conv', 'conv2d', lambda x, weight, bias, stride, padding, dilation, bias_mode:
      conv.conv2d(x, weight, None if bias_mode == 'none' else bias, stride, padding, dilation),
      conv_ref, args=CONV_ARGS, sizes=CONV_SIZES, scalars=CONV_SCALARS, grad=True, contiguous=True, reduces=True)

def conv_fn_call(fn):
    "Forward through `fn`, then backward with a seeded upstream gradient: (y, then the gradient of each input that requires grad)."
    def call(x, weight, bias, stride, padding, dilation, bias_mode, g_special):
        b = None if bias_mode == 'none' else bias
        ins = [as_leaf(t) for t in (x, weight, b)]
        y = fn(*ins, stride, padding, dilation)
        wrt = [t for t in ins if isinstance(t, torch.Tensor) and t.requires_grad]
        return (y, *grad_of(y, wrt, upstream(y.shape, y.dtype, y.device, g_special)))
    return call
def f_conv(x, w, b, s, p, d): return F.conv2d(x, w, b, plain(s), plain(p), plain(d))
def conv_fn_ref(x, weight, bias, stride, padding, dilation, bias_mode, g_special):
    tensor(x, weight)
    return conv_fn_call(f_conv)(x, weight, bias, stride, padding, dilation, bias_mode, g_special)
def conv_double_call(fn):
    """d/dw of sum(∂(fn(x, w))/∂x · g): the second derivative that `gradgradcheck` needs. Our Functions refuse it with
    the error type torch itself uses for `@once_differentiable` (RuntimeError), naming the function and saying
    "differentiable once": that one error counts as the clear refusal here (as a TypeError for `outcome`)."""
    def call(x, weight, stride, padding, dilation):
        xl, wl = as_leaf(x), as_leaf(weight)
        y = fn(xl, wl, None, stride, padding, dilation)
        try: (gx,) = torch.autograd.grad(y, xl, upstream(y.shape, y.dtype, y.device), create_graph=True)
        except RuntimeError as e:
            if 'Conv2dFunction: differentiable once' in str(e): raise TypeError(str(e)) from None
            raise
        return gx.detach(), torch.autograd.grad((gx * gx).sum(), wl)[0]
    return call
CONV_FN_SCALARS = {**CONV_SCALARS, 'g_special': [None, 'nan', 'inf', '-inf']}
for mod, cls in (('conv', conv.Conv2dFunction), ('fast', fast.Conv2dFunction)):
    entry(mod, 'Conv2dFunction', conv_fn_call(cls.apply), conv_fn_ref, args=CONV_ARGS, sizes=CONV_SIZES, scalars=CONV_FN_SCALARS,
          contiguous=True, reduces=True, id=f'{mod}.Conv2dFunction')
    entry(mod, 'Conv2dFunction', conv_double_call(cls.apply), lambda x, weight, **kw: (tensor(x, weight), conv_double_call(f_conv)(x, weight, **kw))[1],
          args=dict(x=CONV_ARGS['x'], weight=CONV_ARGS['weight']), sizes=CONV_SIZES,
          scalars={k: CONV_SCALARS[k] for k in ('stride', 'padding', 'dilation')}, reduces=True, examples=8,
          id=f'{mod}.Conv2dFunction (double backward)', variant='double backward')

def conv_layer_call(cls):
    def call(x, n_in, n_out, ks, stride, padding): return seeded(lambda: cls(n_in, n_out, ks, stride, padding))(x)
    return call
def conv_layer_ref(cls):
    def ref(x, n_in, n_out, ks, stride, padding):
        l = seeded(lambda: cls(plain(n_in), plain(n_out), plain(ks), plain(stride), plain(padding)))
        tensor(x)
        return F.conv2d(x, l.weight, l.bias, plain(stride), plain(padding))
    return ref
for mod, cls in (('conv', conv.Conv2d), ('conv', conv.Conv2dRef), ('fast', fast.Conv2d)):
    entry(mod, 'Conv2d', conv_layer_call(cls), conv_layer_ref(cls), variant='' if cls.__name__ == 'Conv2d' else cls.__name__, args=dict(x=Arg('n 2 h w')), sizes=dict(n=2, h=4, w=4),
          scalars=dict(n_in=real_variants(2), n_out=[3, np.int64(3), 0, 2**21, 3.0], ks=[3, (2, 3), np.int64(2), 0, 5, (1, 2, 3), 2.5],
                       stride=[1, 2, np.int64(2), 0, (1, 2)], padding=[1, 0, np.int64(1), -1, (1, 0)]),
          grad=True, contiguous=cls is not fast.Conv2d, reduces=True, id=f'{mod}.{cls.__name__}')   # fast.Conv2d works channels-last by design

# ---------------------------------------------------------------- npnet: the NumPy port against a float64 reference
def arrays(*xs):
    "Refuse what is not an array of numbers (bool, integers or floats), as the float64 reference does."
    for a in xs:
        if not isinstance(a, np.ndarray) or a.dtype.kind not in 'biuf': raise TypeError('not an array of numbers')

def fdt(*xs):
    "The dtype NumPy's own float arithmetic gives these arrays: their common float dtype, or float64 when one is not float."
    return np.result_type(*[a.dtype for a in xs]) if all(a.dtype.kind == 'f' for a in xs) else np.dtype(np.float64)

def t64(a): return torch.from_numpy(np.array(a, dtype=np.float64))
def back(t, dt): return t.detach().numpy().astype(dt)
def scalar(t, dt): return np.asarray(t.item(), dtype=dt)[()]

def np_matmul_ref(a, b):
    r = np.matmul(a, b)
    if not isinstance(a, np.ndarray) or not isinstance(b, np.ndarray): raise TypeError('arrays only')
    return np.asarray(r)
NP_MATMUL = dict(args=dict(a=Arg('n k', A()), b=Arg('k m', A())), sizes=NK, lib='numpy', reduces=True)
for f in (npnet.matmul_loops, npnet.matmul_elementwise, npnet.matmul_broadcast, npnet.matmul_einsum):
    entry('npnet', f.__name__, f, np_matmul_ref, **NP_MATMUL)

def np_lin_ref(x, w, b):
    arrays(x, w, b)
    return back(t64(x) @ t64(w) + t64(b), fdt(x, w, b))
entry('npnet', 'lin', lambda x, w, b: npnet.lin(x, w, b), np_lin_ref, args=dict(x=Arg('n k', A()), w=Arg('k m', A()), b=Arg('m', A())),
      sizes=NK, lib='numpy', reduces=True)
entry('npnet', 'relu', lambda x: npnet.relu(x), lambda x: (arrays(x), back(torch.relu(t64(x)), fdt(x)))[1], args=dict(x=Arg('*', A())),
      sizes={'*': (2, 3)}, lib='numpy')

def np_init_ref(n_in, n_out, kind, rng, dtype):
    n_in, n_out = plain(n_in), plain(n_out)
    gen = np.random.default_rng(plain(rng)) if not isinstance(rng, np.random.Generator) else rng
    w = (gen.standard_normal((n_in, n_out), dtype=dtype) * STD[kind](n_in)).astype(dtype)
    return Loose(w) if rng is None else w
entry('npnet', 'init_weights', npnet.init_weights, np_init_ref, lib='numpy',
      scalars=dict(n_in=real_variants(3), n_out=real_variants(2), kind=['kaiming', 'xavier', 'normal', 'he'],
                   rng=[0, None, np.int64(3), -1, 2**70, Fresh(lambda: np.random.default_rng(3), 'default_rng(3)'), 'seed', 1.5, True],
                   dtype=[np.float64, np.float32, np.float16, np.dtype('float32'), 'float32', np.int64, torch.float32, None]))

def np_flat(output, targ):
    arrays(output, targ)
    n = len(targ) if targ.ndim == 1 else -1
    if output.shape not in ((n,), (n, 1)) or n < 1: raise ValueError('shapes')
    return t64(output).reshape(n).requires_grad_(), t64(targ)
def np_mse_ref(output, targ):
    o, t = np_flat(output, targ)
    return scalar(F.mse_loss(o, t), fdt(output, targ))
def np_mse_grad_ref(inp, targ):
    o, t = np_flat(inp, targ)
    return back(grad_of(F.mse_loss(o, t), o)[0].reshape(inp.shape), fdt(inp, targ))
NP_MSE = dict(args=dict(output=Arg('n 1', A()), targ=Arg('n', A())), sizes=dict(n=3), lib='numpy')
entry('npnet', 'mse', lambda output, targ: npnet.mse(output, targ), np_mse_ref, **NP_MSE)
entry('npnet', 'mse_grad', lambda output, targ: npnet.mse_grad(output, targ), lambda output, targ: np_mse_grad_ref(output, targ), **NP_MSE)

def np_relu_grad_ref(inp, out_g):
    arrays(inp, out_g)
    x = t64(inp).requires_grad_()
    return back(grad_of(torch.relu(x), x, t64(out_g))[0], fdt(inp, out_g))
entry('npnet', 'relu_grad', lambda inp, out_g: npnet.relu_grad(inp, out_g), np_relu_grad_ref,
      args=dict(inp=Arg('*', A()), out_g=Arg('*', A(seed=1))), sizes={'*': (2, 3)}, lib='numpy')

def np_lin_grad_ref(inp, out_g, w, b, input_grad):
    arrays(inp, out_g, w, b)
    x, w_, b_ = [t64(a).requires_grad_() for a in (inp, w, b)]
    gx, gw, gb = grad_of(x @ w_ + b_, (x, w_, b_), t64(out_g))
    return (back(gx, fdt(out_g, w)) if input_grad else None), back(gw, fdt(inp, out_g)), back(gb, fdt(out_g))
entry('npnet', 'lin_grad', lambda inp, out_g, w, b, input_grad: npnet.lin_grad(inp, out_g, w, b, input_grad), np_lin_grad_ref,
      args=dict(inp=Arg('n k', A()), out_g=Arg('n m', A(seed=1)), w=Arg('k m', A(seed=2)), b=Arg('m', A(seed=3))), sizes=NK,
      scalars=dict(input_grad=[True, False]), lib='numpy', reduces=True)

NP_NET = dict(args=dict(inp=Arg('n k', A()), targ=Arg('n', A(seed=1)), w1=Arg('k h', A(seed=2)), b1=Arg('h', A(seed=3)),
                        w2=Arg('h 1', A(seed=4)), b2=Arg('1', A(seed=5))), sizes=dict(n=3, k=2, h=2), lib='numpy', reduces=True)
def np_net(inp, targ, w1, b1, w2, b2):
    "The float64 reference: the loss and the gradients for inp, w1, b1, w2, b2, each in the dtype NumPy's arithmetic gives."
    arrays(inp, targ, w1, b1, w2, b2)
    ls = [t64(a).requires_grad_() for a in (inp, w1, b1, w2, b2)]
    loss = net_loss(*ls, t64(targ))
    dt = fdt(inp, targ, w1, b1, w2, b2)
    return scalar(loss, dt), dict(zip(['inp', 'w1', 'b1', 'w2', 'b2'], [back(g, dt) for g in grad_of(loss, ls)]))
entry('npnet', 'forward_and_backward', npnet.forward_and_backward, np_net, **NP_NET)

def np_relu_layer_call(inp, out_g):
    l = npnet.Relu()
    out = l(inp)
    return out, l.backward(out_g)
def np_relu_layer_ref(inp, out_g):
    arrays(inp, out_g)
    return back(torch.relu(t64(inp)), fdt(inp)), np_relu_grad_ref(inp, out_g)
entry('npnet', 'Relu', np_relu_layer_call, np_relu_layer_ref, args=dict(inp=Arg('*', A()), out_g=Arg('*', A(seed=1))), sizes={'*': (2, 3)}, lib='numpy')

def np_lin_layer_call(inp, out_g, w, b, input_grad):
    l = npnet.Lin(w, b)
    l.input_grad = input_grad
    out = l(inp)
    gi = l.backward(out_g)
    return out, gi, l.grads['w'], l.grads['b']
def np_lin_layer_ref(inp, out_g, w, b, input_grad):
    return (np_lin_ref(inp, w, b), *np_lin_grad_ref(inp, out_g, w, b, input_grad))
entry('npnet', 'Lin', np_lin_layer_call, np_lin_layer_ref,
      args=dict(inp=Arg('n k', A()), out_g=Arg('n m', A(seed=1)), w=Arg('k m', A(seed=2)), b=Arg('m', A(seed=3))), sizes=NK,
      scalars=dict(input_grad=[True, False]), lib='numpy', reduces=True)

def np_mse_layer_call(inp, targ):
    l = npnet.Mse()
    return l(inp, targ), l.backward()
entry('npnet', 'Mse', np_mse_layer_call, lambda inp, targ: (np_mse_ref(inp, targ), np_mse_grad_ref(inp, targ)), **NP_MSE | {'args': dict(inp=Arg('n 1', A()), targ=Arg('n', A()))})

def np_ce_call(inp, targ):
    l = npnet.CrossEntropy()
    return l(inp, targ), l.backward()
def np_ce_ref(inp, targ):
    arrays(inp)
    if not isinstance(targ, np.ndarray) or targ.dtype.kind not in 'iu': raise TypeError('labels must be integers')
    x = t64(inp).requires_grad_()
    loss = F.cross_entropy(x, torch.from_numpy(targ.astype(np.int64)))
    return scalar(loss, fdt(inp)), back(grad_of(loss, x)[0], fdt(inp))
entry('npnet', 'CrossEntropy', np_ce_call, np_ce_ref, args=dict(inp=Arg('n c', A()), targ=Arg('n', A(np.dtype('int64')), labels='c')),
      sizes=dict(n=3, c=4), lib='numpy')

def np_model_call(x, targ, w1, b1, w2, b2, lr, order):
    m = npnet.Model(w1, b1, w2, b2)
    loss = m(x, targ)
    if order == 'step before backward': m.step(lr)
    gx = m.backward()
    grads = m.grads()
    m.step(lr)
    return loss, gx, grads, [p.copy() for p in m.params]
def np_model_ref(x, targ, w1, b1, w2, b2, lr, order):
    if order != 'backward, then step': raise ValueError('step needs gradients')
    loss, g = np_net(x, targ, w1, b1, w2, b2)
    lr = plain(lr)
    if not isinstance(lr, float | int) or isinstance(lr, bool): raise TypeError('lr')
    dt = fdt(x, targ, w1, b1, w2, b2)
    new = [(p.astype(np.float64) - lr * g[k].astype(np.float64)).astype(p.dtype) for k, p in zip(['w1', 'b1', 'w2', 'b2'], (w1, b1, w2, b2))]   # in place
    return loss, g['inp'], {k: g[k] for k in ('w1', 'b1', 'w2', 'b2')}, new
entry('npnet', 'Model', np_model_call, np_model_ref, pure=False,
      args=dict(x=Arg('n k', A()), targ=Arg('n', A(seed=1)), w1=Arg('k h', A(seed=2)), b1=Arg('h', A(seed=3)), w2=Arg('h 1', A(seed=4)),
                b2=Arg('1', A(seed=5))), sizes=dict(n=3, k=2, h=2), lib='numpy', reduces=True,
      scalars=dict(lr=real_variants(0.1), order=['backward, then step', 'step before backward']))

def np_accuracy_ref(logits, targ):
    arrays(logits, targ)
    if targ.ndim == 2 and targ.shape[1] == 1: targ = targ[:, 0]
    if logits.ndim != 2 or targ.shape != (len(logits),) or not logits.size: raise ValueError('shapes')
    return float((np.asarray(logits).argmax(axis=1) == np.asarray(targ)).mean())
entry('npnet', 'accuracy', lambda logits, targ: npnet.accuracy(logits, targ), np_accuracy_ref,
      args=dict(logits=Arg('n c', A()), targ=Arg('n', A(np.dtype('int64')), labels='c')), sizes=dict(n=3, c=4), lib='numpy')

def np_fit_call(x, y, w1, b1, w2, b2, epochs, lr, bs, rng, model): return npnet.fit(model, x, y, epochs=epochs, lr=lr, bs=bs, rng=rng)
def np_fit_ref(x, y, w1, b1, w2, b2, epochs, lr, bs, rng, model):
    "Plain SGD, one batch per epoch, in float64; the losses as Python floats."
    epochs, lr, bs = plain(epochs), plain(lr), plain(bs)
    if not isinstance(epochs, int) or not 0 <= epochs <= 10 or not isinstance(bs, int) or bs < len(x): raise ValueError('outside what the twin runs')
    arrays(x, y, w1, b1, w2, b2)
    low = any(a.dtype.itemsize < 4 for a in (x, y, w1, b1, w2, b2))   # float16 overflows where float64 does not: no values then
    ps, losses = [t64(p).requires_grad_() for p in (w1, b1, w2, b2)], []
    for _ in range(epochs):
        loss = net_loss(t64(x), *ps, t64(y))
        gs = grad_of(loss, ps)
        ps = [(p - lr * g).detach().requires_grad_() for p, g in zip(ps, gs)]
        losses.append(loss.item())
    return Loose(losses) if low else losses
entry('npnet', 'fit', np_fit_call, np_fit_ref, pure=False, tol=(1e-4, 1e-6), examples=15,
      prep=lambda args: {**args, 'model': npnet.Model(*[args[k] for k in ('w1', 'b1', 'w2', 'b2')])},
      args=dict(x=Arg('n k', A()), y=Arg('n', A(seed=1)), w1=Arg('k h', A(seed=2)), b1=Arg('h', A(seed=3)), w2=Arg('h 1', A(seed=4)),
                b2=Arg('1', A(seed=5))), sizes=dict(n=3, k=2, h=2), lib='numpy', reduces=True,
      scalars=dict(epochs=[2, 1, np.int64(2), 0, 10**9, 2.0, True, -1], lr=real_variants(0.1), bs=[64, np.int64(64), 64.0, 0, True, None],
                   rng=[0, np.int64(3), None, Fresh(lambda: np.random.default_rng(1), 'default_rng(1)'), -1, 1.5]))

# ---------------------------------------------------------------- data
def normalise_ref(x_train, x_valid):
    tensor(x_train, x_valid)
    m, s = x_train.mean(), x_train.std()
    return (x_train - m) / s, (x_valid - m) / s, m, s
entry('data', 'normalise', lambda x_train, x_valid: data.normalise(x_train, x_valid), normalise_ref,
      args=dict(x_train=Arg('*'), x_valid=Arg('*', T(seed=1))), sizes={'*': (2, 3)}, grad=True)

LABEL_KINDS = ['none', 'ints', 'floats', 'strings', 'NaN', 'None entries', 'tensor', 'array', 'one too few', 'a number']
def label_list(kind, n):
    return {'none': None, 'ints': list(range(n)), 'floats': [float(i) for i in range(n)], 'strings': ['a'] * n, 'NaN': [math.nan] * n,
            'None entries': [None] * n, 'tensor': torch.arange(n), 'array': np.arange(n), 'one too few': list(range(n - 1)), 'a number': 3}[kind]
def show_images_prep(args):
    n = len(args['x']) if hasattr(args['x'], '__len__') else 0
    return {**args, 'labels': label_list(args['labels'], n)}
def show_images_call(x, labels, ncols): return data.show_images(x, labels=labels, ncols=ncols, size=0.5)
def show_images_ref(x, labels, ncols):
    "Valid: 1 to 100 real images (a tensor, an array or lists) of a square number of pixels, and None or one label each."
    x = torch.as_tensor(x)
    if x.is_complex() or x.is_meta or x.ndim != 2 or not 1 <= len(x) <= 100 or math.isqrt(x.shape[1]) ** 2 != x.shape[1]:
        raise ValueError('not images')
    x.float()                                   # pixels torch can turn into floats (not quantized or bit dtypes)
    if labels is not None and (not hasattr(labels, '__len__') or len(labels) != len(x)): raise ValueError('one label per image')
    ncols = plain(ncols)
    if not isinstance(ncols, int) or isinstance(ncols, bool) or not 1 <= ncols <= 50: raise ValueError('ncols')
    return Fig(-(-len(x) // ncols) * ncols)
entry('data', 'show_images', show_images_call, show_images_ref, args=dict(x=Arg('n 4')), sizes=dict(n=2), prep=show_images_prep,
      scalars=dict(labels=LABEL_KINDS, ncols=[2, np.int64(2), 1, 0, 2.0, True, 51]), examples=10)

_DIGITS = {}
def digits_ref(valid_pct, seed, device):
    key = (plain(valid_pct), plain(seed), str(device))
    if key not in _DIGITS:
        try: _DIGITS[key] = ('ok', data.load_digits_data(plain(valid_pct), plain(seed), device=device))
        except Exception as e: _DIGITS[key] = ('error', e)
    kind, v = _DIGITS[key]
    if kind == 'error': raise v
    return tuple(t.clone() for t in v)
entry('data', 'load_digits_data', lambda valid_pct, seed, device: data.load_digits_data(valid_pct, seed, device), digits_ref,
      scalars=dict(valid_pct=[0.2, np.float32(0.25), Fraction(1, 5), Decimal('0.2'), 0.0, math.nan, '0.2', True],
                   seed=[42, np.int64(42), np.uint8(42), 42.0, 2**64, None], device=[None, torch.device('cpu'), 'meta', 'cuda', 3.5]),
      examples=3)

# ---------------------------------------------------------------- mnist: the IDX codec
_IDX = {np.dtype('>u1'): 0x08, np.dtype('>i1'): 0x09, np.dtype('>i2'): 0x0B, np.dtype('>i4'): 0x0C, np.dtype('>f4'): 0x0D, np.dtype('>f8'): 0x0E}
_CODE = {v: k for k, v in _IDX.items()}
def idx_bytes(a):
    "IDX bytes of array `a`, written by this test (not by scratchnet): the header, then the big-endian payload."
    a = np.asarray(a)
    dt = a.dtype.newbyteorder('>')
    if dt not in _IDX or a.ndim == 0: a, dt = np.atleast_1d(a).astype(np.float64), np.dtype('>f8')
    return bytes([0, 0, _IDX[dt], a.ndim]) + struct.pack(f'>{a.ndim}I', *a.shape) + a.astype(dt).tobytes()
def idx_array(raw):
    "The array in IDX bytes `raw`, read by this test."
    nd = raw[3]
    shape = struct.unpack(f'>{nd}I', raw[4:4 + 4 * nd])
    dt = _CODE[raw[2]]
    return np.frombuffer(raw, dt, offset=4 + 4 * nd).reshape(shape).astype(dt.newbyteorder('='))

TMP = Path(tempfile.mkdtemp(prefix='sweep-idx-'))
AS = ['as built', 'a tensor that requires grad', 'a meta tensor', 'a ragged list', 'a 0-d array']
def as_wanted(args):
    how = args['how']
    a = {'a tensor that requires grad': lambda: torch.tensor([[1., 2.]], requires_grad=True),
         'a meta tensor': lambda: torch.zeros(2, 3, device='meta'), 'a ragged list': lambda: [[1, 2], [3]],
         'a 0-d array': lambda: np.array(7, dtype=np.uint8)}.get(how, lambda: args['a'])()
    return {**args, 'a': a, 'path': TMP/f"w.idx{'.gz' if args['gz'] else ''}"}
def write_idx_call(a, how, gz, path):
    mnist.write_idx(path, a)
    raw = path.read_bytes()
    return idx_array(gzip.decompress(raw) if gz else raw)
def write_idx_ref(a, how, gz, path):
    arr = np.asarray(a)
    if arr.dtype.newbyteorder('>') not in _IDX or arr.ndim == 0: raise ValueError('IDX cannot store it')
    return arr.astype(arr.dtype.newbyteorder('='))
entry('mnist', 'write_idx', write_idx_call, write_idx_ref, args=dict(a=Arg('*', A(np.dtype('uint8')))), sizes={'*': (2, 3)}, lib='numpy', prep=as_wanted,
      scalars=dict(how=AS, gz=[False, True]))

DAMAGE = ['none', 'as bytearray', 'as memoryview', 'truncated', 'one byte more', 'bad magic', 'unknown dtype code', '0 dimensions',
          'header only', 'as str', 'as a list of ints', '255 dimensions']
def damaged(raw, how):
    return {'none': raw, 'as bytearray': bytearray(raw), 'as memoryview': memoryview(raw), 'truncated': raw[:-1] if len(raw) > 4 + 4 * raw[3] else raw[:5],
            'one byte more': raw + b'\0', 'bad magic': b'\1' + raw[1:], 'unknown dtype code': raw[:2] + b'\x0a' + raw[3:],
            '0 dimensions': raw[:3] + b'\0', 'header only': raw[:4], 'as str': raw.decode('latin-1'), 'as a list of ints': list(raw),
            '255 dimensions': raw[:3] + b'\xff' + b'\0\0\0\1' * 255}[how]
def parse_idx_ref(a, how):
    if how not in ('none', 'as bytearray', 'as memoryview'): raise ValueError('damaged')
    return idx_array(idx_bytes(a))
entry('mnist', 'parse_idx', lambda a, how, raw: mnist.parse_idx(raw), lambda a, how, raw: parse_idx_ref(a, how),
      prep=lambda args: {**args, 'raw': damaged(idx_bytes(args['a']), args['how'])},
      args=dict(a=Arg('*', A(np.dtype('uint8')))), sizes={'*': (2, 3)}, lib='numpy', scalars=dict(how=DAMAGE))

def read_idx_prep(args):
    path, raw = TMP/f"r.idx{'.gz' if args['gz'] else ''}", idx_bytes(args['a'])
    path.write_bytes(gzip.compress(raw, mtime=0) if args['gz'] else raw)
    return {**args, 'path': path}
def read_idx_call(a, max_bytes, gz, path): return mnist.read_idx(path, max_bytes=max_bytes)
def read_idx_ref(a, max_bytes, gz, path):
    raw, mb = idx_bytes(a), plain(max_bytes)
    if mb is not None and (not isinstance(mb, int) or isinstance(mb, bool) or mb < len(raw)): raise ValueError('max_bytes')
    return idx_array(raw)
entry('mnist', 'read_idx', read_idx_call, read_idx_ref, args=dict(a=Arg('*', A(np.dtype('uint8')))), sizes={'*': (2, 3)}, lib='numpy', prep=read_idx_prep,
      scalars=dict(max_bytes=[2**31, None, np.int64(10**6), 10, 0, -1, 1.5, Fraction(10**6), True, '1000', 2**70], gz=[False, True]))

# ---------------------------------------------------------------- comparing a result with the reference
def tolerance(dt, e):
    "(rtol, atol) for values of dtype `dt`; atol also grows with the largest reference value (rounding in sums)."
    if e.tol: return e.tol
    name = short(dt)
    if name in ('float16', 'complex32'): return 1e-2, 1e-2
    if name == 'bfloat16': return 4e-2, 4e-2
    if 'float8' in name or 'float4' in name: return 0.3, 0.3
    if name in ('float32', 'complex64'): return 1e-5, 1e-6
    return 1e-9, 1e-12

def _fmt(v):
    try: s = str(v.tolist() if hasattr(v, 'tolist') else v)
    except Exception: s = f'<{type(v).__name__}>'
    return s if len(s) <= 160 else s[:157] + '…'

def _close(a, b, dt, e, lib):
    "True when float/complex tensors or arrays `a` and `b` agree: the same NaN, the same infinities, close finite values."
    rtol, atol = tolerance(dt, e)
    if lib == 'torch':
        up = torch.complex128 if a.is_complex() else torch.float64
        a, b = a.detach().cpu().to(up), b.detach().cpu().to(up)
        fin = b[torch.isfinite(b)]
        atol += rtol * (fin.abs().max().item() if fin.numel() else 0.)
        return bool(torch.isclose(a, b, rtol=rtol, atol=atol, equal_nan=True).all())
    up = np.complex128 if a.dtype.kind == 'c' else np.float64
    a, b = np.asarray(a, dtype=up), np.asarray(b, dtype=up)
    fin = b[np.isfinite(b)]
    atol += rtol * (float(np.abs(fin).max()) if fin.size else 0.)
    return bool(np.isclose(a, b, rtol=rtol, atol=atol, equal_nan=True).all())

def differ(got, want, e, where='the result'):
    "Why `got` is not `want` (None when it is): type, shape, dtype, device, values; tuples, lists and dicts element by element."
    if isinstance(want, Loose):
        w = want.t
        if type(got) is not type(w) and not (isinstance(got, torch.Tensor) and isinstance(w, torch.Tensor)):
            return f"{where} is a {type(got).__name__}, the reference a {type(w).__name__}"
        for attr in ('shape', 'dtype', 'device'):
            if getattr(got, attr, None) != getattr(w, attr, None): return f"{where} has {attr} {getattr(got, attr, None)}, the reference {getattr(w, attr, None)}"
        return None
    if isinstance(want, Fig):
        if not isinstance(got, Figure): return f"{where} is a {type(got).__name__}, not a matplotlib Figure"
        return None if len(got.axes) == want.n_axes else f"{where} has {len(got.axes)} axes, not {want.n_axes}"
    if isinstance(want, torch.Tensor):
        if not isinstance(got, torch.Tensor): return f"{where} is a {type(got).__name__}, torch gives a tensor"
        for attr in ('shape', 'dtype', 'device'):
            if getattr(got, attr) != getattr(want, attr):
                return f"{where} has {attr} {getattr(got, attr)}, torch gives {getattr(want, attr)}"
        if want.is_meta: return None
        a, b = got.detach(), want.detach()
        if a.is_quantized: a, b = a.dequantize(), b.dequantize()
        if a.is_floating_point() or a.is_complex(): ok = _close(a, b, want.dtype, e, 'torch')
        else:
            try: ok = torch.equal(a, b)
            except (RuntimeError, NotImplementedError): ok = bytes(a.contiguous().view(torch.uint8).numpy()) == bytes(b.contiguous().view(torch.uint8).numpy())
        return None if ok else f"{where} differs: got {_fmt(a)}, torch gives {_fmt(b)}"
    if isinstance(want, (np.ndarray, np.generic)):
        if not isinstance(got, (np.ndarray, np.generic)): return f"{where} is a {type(got).__name__}, the reference a NumPy {type(want).__name__}"
        if np.shape(got) != np.shape(want): return f"{where} has shape {np.shape(got)}, the reference {np.shape(want)}"
        if got.dtype != want.dtype: return f"{where} has dtype {got.dtype}, the reference {want.dtype}"
        if want.dtype.kind in 'fc': ok = _close(got, want, want.dtype, e, 'np')
        else: ok = bool(np.array_equal(got, want))
        return None if ok else f"{where} differs: got {_fmt(got)}, the reference {_fmt(want)}"
    if isinstance(want, (tuple, list)):
        if not isinstance(got, (tuple, list)): return f"{where} is a {type(got).__name__}, the reference a {type(want).__name__}"
        if len(got) != len(want): return f"{where} has {len(got)} items, the reference {len(want)}: got {_fmt(got)}, want {_fmt(want)}"
        for i, (g, w) in enumerate(zip(got, want)):
            if r := differ(g, w, e, f"{where}[{i}]"): return r
        return None
    if isinstance(want, dict):
        if not isinstance(got, dict) or got.keys() != want.keys(): return f"{where} is {_fmt(got)}, the reference has keys {list(want)}"
        for k in want:
            if r := differ(got[k], want[k], e, f"{where}[{k!r}]"): return r
        return None
    if isinstance(want, float):
        if isinstance(got, (torch.Tensor, np.ndarray, str)) or not isinstance(got, numbers.Real): return f"{where} is {_fmt(got)}, the reference the number {want}"
        rtol, atol = e.tol or (1e-6, 1e-9)
        ok = (math.isnan(got) and math.isnan(want)) or got == want or math.isclose(got, want, rel_tol=rtol, abs_tol=atol)
        return None if ok else f"{where} is {got!r}, the reference {want!r}"
    if want is None: return None if got is None else f"{where} is {_fmt(got)}, the reference None"
    if isinstance(got, (torch.Tensor, np.ndarray)) or got != want: return f"{where} is {_fmt(got)}, the reference {_fmt(want)}"
    return None

def _tensors(v): return [t for t in _leaves(v) if isinstance(t, torch.Tensor)]
def _leaves(v):
    if isinstance(v, (torch.Tensor, np.ndarray)): return [v]
    if isinstance(v, (tuple, list)): return [x for y in v for x in _leaves(y)]
    if isinstance(v, dict): return [x for y in v.values() for x in _leaves(y)]
    return []

RANK = {'': 0, 'shares memory': 1, 'is': 2}
def checker(e, label, want, args_f, args_t, keep):
    "The `ok` of `outcome`: raises an AssertionError that says what is wrong, or returns True."
    def ok(got):
        why = differ(got, want, e)
        if not why and e.grad:
            for i, (g, w) in enumerate(zip(_tensors(got), _tensors(want))):
                if g.requires_grad != w.requires_grad:
                    why = f"result tensor {i} has requires_grad={g.requires_grad}, torch's {w.requires_grad} (cut off from autograd)" if w.requires_grad \
                          else f"result tensor {i} requires grad, torch's does not"
                    break
        if not why:
            a_got, a_want = aliases(got, list(args_f.values())), aliases(want, list(args_t.values()))
            if RANK[a_got] > RANK[a_want]:
                why = (f"the result is one of its inputs itself ({'the twin returns a new view' if a_want else 'the twin returns a new tensor'}),"
                       if a_got == 'is' else "the result shares memory with an input, the twin's does not") + " so changing one changes the other"
        if not why and e.contiguous:                     # the output's layout (gradients may come in any layout)
            g, w = _tensors(got)[0], _tensors(want)[0]
            if w.is_contiguous() and not g.is_contiguous():
                why = f"the output has strides {g.stride()}, not contiguous as F.conv2d's {w.stride()} (y.view(n, -1) fails)"
        if not why and keep is not None:
            for k, v in keep.items():
                if isinstance(v, (torch.Tensor, np.ndarray, list)) and (d := differ(args_f[k], v, e, f"input {k}")):
                    why = f"changed its input: {d}"; break
        if why: raise AssertionError(f"{label}: silently wrong: {why}")
        return True
    return ok

# ---------------------------------------------------------------- cases
@dataclass(frozen=True)
class Case:
    sizes: tuple           # ((size name, value), ...), for the description
    shapes: tuple          # ((arg, shape), ...): the arguments this case builds
    specs: tuple           # ((arg, recipe), ...)
    scalars: tuple         # ((name, index into the candidates), ...)
    extra: tuple = ()      # ((name, value), ...): passed as they are (einsum's spec)

def resolve(pattern, sizes):
    if isinstance(pattern, tuple): return pattern
    if pattern == '*': return tuple(sizes['*'])
    return tuple(int(p) if p.isdigit() else sizes[p] for p in pattern.split())

def make_case(e, sizes, specs, scalars, shapes=None, extra=()):
    shapes = shapes or {a: resolve(arg.pattern, sizes) for a, arg in e.args.items()}
    return Case(tuple(sizes.items()), tuple(shapes.items()), tuple((a, specs[a]) for a in shapes), tuple(scalars.items()), tuple(extra))

def build(e, case):
    "The arguments of `case`, made fresh, and the recipes as they applied."
    sizes, out, used = dict(case.sizes), {}, {}
    for i, (a, shape) in enumerate(case.shapes):
        spec = dict(case.specs)[a]
        low = spec.dtype in LOW_PRECISION if e.lib == 'torch' else np.dtype(spec.dtype) == np.float16
        if e.reduces and low and spec.special == 'huge': spec = type(spec)(**{**spec.__dict__, 'special': None})
        lab = e.args[a].labels
        labels = sizes.get(lab, 0) if isinstance(lab, str) else lab or 0
        out[a], used[a] = (build_tensor if e.lib == 'torch' else build_array)(spec, shape, labels, salt=7919 * i)   # each its own values
    for name, i in case.scalars:
        v = e.scalars[name][i]
        out[name] = v.make() if isinstance(v, Fresh) else copy.deepcopy(v)
    out = {**out, **dict(case.extra)}
    return (e.prep(out) if e.prep else out), used

def describe_case(e, case, used):
    sizes = ' '.join(f"{k}={v}" if k != '*' else f"shape {tuple(v)}" for k, v in case.sizes)
    parts = [f"{dict(case.extra)['spec']!r} on {', '.join(str(s) for _, s in case.shapes)}"] if case.extra else ([sizes] if sizes else [])
    for a, spec in used.items():
        if d := describe_spec(spec, e.args[a].default): parts.append(f"{a}: {d}")
    parts += [f"{name}={show(e.scalars[name][i])}" for name, i in case.scalars if i]
    return '; '.join(([e.variant] if e.variant else []) + parts)

def run_case(e, case, failures, seen):
    "Check one case against the rule; a failure is added to `failures`. Warnings are not part of the rule, so they are silenced."
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        _run_case(e, case, failures, seen)

def _run_case(e, case, failures, seen):
    try: args_t, used = build(e, case)
    except Exception: return                  # the preparation itself refused (a model that cannot be built): not this call's case
    what = describe_case(e, case, used)
    key = (what, tuple(s.seed for s in used.values()))
    if key in seen: return
    seen.add(key)
    try:
        if len({t.device for t in _tensors(list(args_t.values()))}) > 1: raise ValueError('tensors on different devices')   # torch itself is not always strict
        want, err = e.twin(**args_t), None
    except Exception as ex: want, err = None, ex
    if err is not None and e.widen is not None:
        try: want, err = e.widen(**build(e, case)[0]), None
        except Exception: pass
    args_f = build(e, case)[0]
    keep = build(e, case)[0] if e.pure else None
    label = f"{e.module}.{e.name}({what})"
    try:
        if err is not None: outcome(e.module, e.name, lambda: e.call(**args_f), error=True, what=what, timeout=10)
        else: outcome(e.module, e.name, lambda: e.call(**args_f), ok=checker(e, label, want, args_f, args_t, keep), what=what, timeout=10)
    except AssertionError as ex:
        note = f"  [the twin: {type(err).__name__}: {str(err)[:100]}]" if err is not None and 'expected' in str(ex) else ''
        failures.append(str(ex).replace('\n', ' ') + note)

def corner_cases(e):
    """One odd thing at a time: each dtype for each group of arguments (those with one default dtype), then each layout,
    special value, device, container and requires_grad for each argument, sizes 0 and 1 (also with every argument
    requiring grad), each number variant."""
    if e.corners: return einsum_corners(e)
    sizes, specs, scal = dict(e.sizes), {a: arg.default for a, arg in e.args.items()}, {s: 0 for s in e.scalars}
    out = [make_case(e, sizes, specs, scal)]
    dtypes = TORCH_DTYPES if e.lib == 'torch' else NP_DTYPES
    groups = {}
    for a, arg in e.args.items(): groups.setdefault(str(arg.default.dtype), []).append(a)
    for members in groups.values():
        for dt in dtypes: out.append(make_case(e, sizes, {**specs, **{a: type(specs[a])(**{**specs[a].__dict__, 'dtype': dt}) for a in members}}, scal))
    axes = (('layout', LAYOUTS[1:]), ('special', SPECIALS[1:]), ('device', ('meta',)), ('container', CONTAINERS[1:]), ('grad', (True,))) \
           if e.lib == 'torch' else (('layout', NP_LAYOUTS[1:]), ('special', SPECIALS[1:]), ('container', NP_CONTAINERS[1:]))
    for a in e.args:
        for attr, values in axes:
            for v in values: out.append(make_case(e, sizes, {**specs, a: type(specs[a])(**{**specs[a].__dict__, attr: v})}, scal))
    grads = {a: type(s)(**{**s.__dict__, 'grad': True}) for a, s in specs.items()} if e.lib == 'torch' else None
    for k, v0 in sizes.items():
        for v in (((), (0,), (1,), (3, 0, 2), (1, 1, 1, 1)) if k == '*' else (0, 1)):
            if v != v0:
                out.append(make_case(e, {**sizes, k: v}, specs, scal))
                if grads: out.append(make_case(e, {**sizes, k: v}, grads, scal))     # an empty product must stay in autograd's graph
    for s, cands in e.scalars.items():
        for i in range(1, len(cands)): out.append(make_case(e, sizes, specs, {**scal, s: i}))
    return out

def einsum_corners(e):
    scal = {s: 0 for s in e.scalars}
    out = []
    for spec, shapes in e.corners:
        names = [f'op{i}' for i in range(len(shapes))]
        specs = {a: T() for a in names}
        out.append(make_case(e, {}, specs, scal, dict(zip(names, shapes)), [('spec', spec)]))
    spec, shapes = e.corners[0]
    names = ['op0', 'op1']
    base = {a: T() for a in names}
    shp = dict(zip(names, shapes))
    for dt in TORCH_DTYPES: out.append(make_case(e, {}, {a: T(dtype=dt) for a in names}, scal, shp, [('spec', spec)]))
    for attr, values in (('layout', LAYOUTS[1:]), ('special', SPECIALS[1:]), ('device', ('meta',)), ('container', CONTAINERS[1:]), ('grad', (True,))):
        for v in values: out.append(make_case(e, {}, {**base, 'op0': T(**{**T().__dict__, attr: v})}, scal, shp, [('spec', spec)]))
    out.append(make_case(e, {}, base, {'form': 1}, shp, [('spec', spec)]))
    for spec, shapes in e.corners[1:6]:                   # identity-like specs with every layout: the result must not be the operand
        for lay in LAYOUTS[1:]: out.append(make_case(e, {}, {'op0': T(layout=lay)}, scal, {'op0': shapes[0]}, [('spec', spec)]))
    return out

SIZE_OPTIONS = (1, 2, 3, 2, 3)          # drawn when sizes are not the focus (more often not 1)
@st.composite
def cases(draw, e):
    "A hypothesis case: the focus axes are drawn for some arguments, the rest stays default; dtypes are drawn per group."
    axes = (AXES if e.lib == 'torch' else NP_AXES) + ('size', 'scalar')
    focus = draw(focuses(axes)) if e.args else ('scalar',)
    if e.cases is not None:                                         # einsum: the spec and shapes come from their own strategy
        spec, shapes = draw(e.cases)
        names = [f'op{i}' for i in range(len(shapes))]
        specs = {a: draw(tensor_specs(T(), focus)) if draw(st.booleans()) else T(seed=draw(st.integers(0, 99))) for a in names}
        if 'dtype' in focus and draw(st.booleans()):
            dt = draw(st.sampled_from(TORCH_DTYPES))
            specs = {a: T(**{**s.__dict__, 'dtype': dt}) for a, s in specs.items()}
        scal = {s: draw(st.integers(0, len(c) - 1)) if 'scalar' in focus else 0 for s, c in e.scalars.items()}
        return make_case(e, {}, specs, scal, dict(zip(names, shapes)), [('spec', spec)])
    sizes = {}
    for k in e.sizes:
        if k == '*': sizes[k] = tuple(draw(st.lists(st.integers(0 if 'size' in focus else 1, 3), max_size=4 if 'size' in focus else 3)))
        else: sizes[k] = draw(st.sampled_from((0, 1, 2, 3) if 'size' in focus else SIZE_OPTIONS))
    strat = tensor_specs if e.lib == 'torch' else array_specs
    dtypes = TORCH_DTYPES if e.lib == 'torch' else NP_DTYPES
    group_dt = {g: draw(st.sampled_from(dtypes)) for g in sorted({str(arg.default.dtype) for arg in e.args.values()})} if 'dtype' in focus else {}
    specs = {}
    for a, arg in e.args.items():
        d = arg.default
        if str(d.dtype) in group_dt and draw(st.integers(0, 3)): d = type(d)(**{**d.__dict__, 'dtype': group_dt[str(d.dtype)]})
        rest = tuple(f for f in focus if f != 'dtype' or str(arg.default.dtype) not in group_dt)
        s = draw(strat(d, rest if draw(st.booleans()) else ()))
        specs[a] = type(s)(**{**s.__dict__, 'seed': d.seed + s.seed})
    scal = {s: draw(st.integers(0, len(c) - 1)) if 'scalar' in focus and draw(st.booleans()) else 0 for s, c in e.scalars.items()}
    return make_case(e, sizes, specs, scal)

# ---------------------------------------------------------------- the tests
@pytest.fixture(scope='module', autouse=True)
def one_thread():
    "Tiny tensors: one torch thread is faster, and on a busy machine much steadier (no waiting for a second thread)."
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)
    shutil.rmtree(TMP, ignore_errors=True)          # the IDX files the mnist entries wrote

@pytest.mark.parametrize('e', ENTRIES, ids=[e.id for e in ENTRIES])
def test_generated(e):
    failures, seen = [], set()
    for case in corner_cases(e): run_case(e, case, failures, seen)

    @settings(max_examples=e.examples, derandomize=True, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(case=cases(e))
    def drawn(case): run_case(e, case, failures, seen)
    drawn()
    failures = list(dict.fromkeys(failures))
    assert not failures, f"{len(failures)} generated call(s) broke the rule:\n" + '\n'.join(failures)
