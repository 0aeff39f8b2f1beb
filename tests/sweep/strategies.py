"""What the generated sweep feeds the package: recipes for tensors, arrays and numbers, and the hypothesis strategies that draw them.

A recipe (`T` for a torch tensor, `A` for a NumPy array) is plain data: a dtype, a layout, one special value, a device,
a container, whether it requires grad, and a seed for its ordinary values. `build_tensor`/`build_array` turn a recipe
and a shape into a fresh value, the same every time, so that the function under test and its torch/NumPy twin each
get their own copy. Ordinary values are small integers (exact in every float dtype, so that no summation order can
change a result); next to 'huge' they are 0, ±2 or ±3, so that every product with it overflows in any order.
"""
import math, warnings
from dataclasses import dataclass, fields, replace
from decimal import Decimal
from fractions import Fraction
import numpy as np
import torch
from torch import nn
from hypothesis import strategies as st

def _dtypes(names): return [getattr(torch, n) for n in names if isinstance(getattr(torch, n, None), torch.dtype)]

# every torch dtype: the usual ones first, then those that torch itself can barely compute with
TORCH_DTYPES = _dtypes(['float32', 'float64', 'float16', 'bfloat16', 'complex64', 'complex128', 'complex32', 'int64', 'int32',
                        'int16', 'int8', 'uint8', 'uint16', 'uint32', 'uint64', 'bool', 'float8_e4m3fn', 'float8_e5m2',
                        'float8_e4m3fnuz', 'float8_e5m2fnuz', 'float8_e8m0fnu', 'float4_e2m1fn_x2', 'qint8', 'quint8',
                        'qint32', 'quint4x2', 'quint2x4', 'bits8', 'bits16', 'bits1x8', 'bits2x4', 'bits4x2']
                       + [f'{u}int{i}' for u in ('', 'u') for i in range(1, 8)])
FLOAT_DTYPES = [torch.float32, torch.float64, torch.float16, torch.bfloat16]
INT_DTYPES = [torch.int64, torch.int32, torch.int16, torch.int8, torch.uint8]
QUANTIZED = set(_dtypes(['qint8', 'quint8', 'qint32', 'quint4x2', 'quint2x4']))
_STANDARD = set(_dtypes(['float32', 'float64', 'float16', 'bfloat16', 'complex64', 'complex128', 'complex32', 'int64', 'int32',
                         'int16', 'int8', 'uint8', 'uint16', 'uint32', 'uint64', 'bool', 'float8_e4m3fn', 'float8_e5m2',
                         'float8_e4m3fnuz', 'float8_e5m2fnuz', 'float8_e8m0fnu']))
LOW_PRECISION = {torch.float16, torch.complex32}      # torch's CPU kernels accumulate these in float32: 'huge' overflows differently

NP_DTYPES = [np.dtype(d) for d in ('float64', 'float32', 'float16', 'longdouble', 'complex64', 'complex128', 'int64', 'int32',
                                   'int16', 'int8', 'uint8', 'uint16', 'uint32', 'uint64', 'bool', '>f8', '>i4', '<U4', 'S4',
                                   'object', 'datetime64[s]', 'timedelta64[s]')]

LAYOUTS = ('contiguous', 'transposed', 'expanded', 'step-sliced', 'offset', 'channels-last')
NP_LAYOUTS = ('contiguous', 'transposed', 'expanded', 'step-sliced', 'offset', 'fortran', 'read-only')
SPECIALS = (None, 'nan', 'inf', '-inf', 'denormal', 'huge')
CONTAINERS = ('tensor', 'parameter', 'subclass', 'list', 'numpy')
NP_CONTAINERS = ('ndarray', 'subclass', 'list', 'tensor', 'matrix')
DEVICES = ('cpu', 'meta')

class SubTensor(torch.Tensor):
    "A tensor subclass with nothing added, as a library built on torch might pass one."

class SubArray(np.ndarray):
    "An ndarray subclass with nothing added."

@dataclass(frozen=True)
class T:
    "How to build one torch tensor argument (its shape comes from the function's pattern)."
    dtype: torch.dtype = torch.float32
    layout: str = 'contiguous'
    special: str = None
    device: str = 'cpu'
    container: str = 'tensor'
    grad: bool = False
    reshape: str = None           # None, 'extra-dim', 'drop-dim' or 'off-by-one': a wrong shape on purpose
    seed: int = 0

@dataclass(frozen=True)
class A:
    "How to build one NumPy array argument."
    dtype: np.dtype = np.dtype('float64')
    layout: str = 'contiguous'
    special: str = None
    container: str = 'ndarray'
    reshape: str = None
    seed: int = 0

def short(dt):
    "A dtype's short name: float32, int8, <U4."
    return str(dt).removeprefix('torch.') if isinstance(dt, torch.dtype) else np.dtype(dt).str if np.dtype(dt).byteorder == '>' else str(np.dtype(dt))

def describe_spec(spec, default):
    "The attributes of `spec` that differ from `default`, as words ('' when none do)."
    out = []
    for f in fields(spec):
        v, d = getattr(spec, f.name), getattr(default, f.name)
        if f.name == 'seed' or v == d: continue
        out.append(short(v) if f.name == 'dtype' else 'requires_grad' if f.name == 'grad' else f'on {v}' if f.name == 'device'
                   else f'with {v}' if f.name == 'special' else f'as {v}' if f.name == 'container' else f'shape {v}' if f.name == 'reshape' else str(v))
    return ' '.join(out)

def reshaped(shape, how):
    "`shape` made wrong on purpose: one more dimension of 1, one fewer dimension, or the last size one larger."
    shape = tuple(shape)
    if how == 'extra-dim': return shape + (1,)
    if how == 'drop-dim': return shape[:-1]
    if how == 'off-by-one': return shape[:-1] + (shape[-1] + 1,) if shape else (1,)
    return shape

# ---------------------------------------------------------------- values
FIRST = (0., -2., 3.)       # the first values of a function's first argument: exactly 0 (ReLU's boundary), a negative, a positive

def _ordinary(base_shape, seed, special, labels, lib, first):
    """Small integers from a seeded generator (labels: 0..labels-1), as float64; next to 'huge' only 0, ±2, ±3.
    With `first`, the first entries are `FIRST`, so that a special value put at index 0 of another argument meets ReLU's 0."""
    if lib == 'np':
        rng = np.random.default_rng(seed)
        v = (rng.integers(0, max(labels, 1), base_shape) if labels else rng.integers(-3, 4, base_shape)).astype(np.float64)
        if special == 'huge' and not labels: v = np.where(np.abs(v) == 1, 2 * v, v)
        if first and not labels: v.reshape(-1)[:3] = FIRST[:v.size]
        return v
    g = torch.Generator().manual_seed(seed)
    v = (torch.randint(0, max(labels, 1), base_shape, generator=g) if labels else torch.randint(-3, 4, base_shape, generator=g)).double()
    if special == 'huge' and not labels: v = torch.where(v.abs() == 1, 2 * v, v)
    if first and not labels and v.numel(): v.view(-1)[:3] = torch.tensor(FIRST[:v.numel()], dtype=torch.float64)
    return v

def special_value(kind, special):
    """The number that `special` stands for in a dtype of NumPy kind `kind` with float/int info `info`; None where it has none.
    `kind` is ('f', finfo) or ('i', iinfo)."""
    k, info = kind
    if k == 'f':
        return {'nan': math.nan, 'inf': math.inf, '-inf': -math.inf, 'huge': float(info.max),
                'denormal': float(info.smallest_normal) / 4}.get(special)
    return {'huge': int(info.max), '-inf': int(info.min)}.get(special) if k == 'i' else None

def _plan(layout, shape):
    "The base shape to draw, and how to view it as `shape` in `layout`; the layout that really applies to this shape."
    nd = len(shape)
    if layout == 'transposed' and nd >= 2: return tuple(reversed(shape)), layout
    if layout == 'expanded' and nd >= 1:
        d = max([i for i, s in enumerate(shape) if s != 1] or [nd - 1])
        return shape[:d] + (1,) + shape[d + 1:], layout
    if layout == 'step-sliced' and nd >= 1: return (2 * shape[0],) + shape[1:], layout
    if layout == 'offset' and nd >= 1: return (shape[0] + 1,) + shape[1:], layout
    if layout == 'channels-last' and nd == 4: return shape, layout
    if layout in ('fortran', 'read-only') and nd >= 1: return shape, layout
    return shape, 'contiguous'

def _view(t, layout, shape, lib):
    "Apply the layout view to the base `t`."
    if layout == 'transposed': return t.transpose() if lib == 'np' else t.permute(*reversed(range(t.ndim)))
    if layout == 'expanded': return np.broadcast_to(t, shape) if lib == 'np' else t.expand(shape)
    if layout == 'step-sliced': return t[::2]
    if layout == 'offset': return t[1:]
    if layout == 'channels-last': return t.contiguous(memory_format=torch.channels_last)
    if layout == 'fortran': return np.asfortranarray(t)
    if layout == 'read-only': t = t.copy(); t.flags.writeable = False; return t
    return t

def build_tensor(spec, shape, labels=0, salt=0):
    """A fresh torch value for recipe `spec` and `shape`; `labels` > 0 draws class labels 0..labels-1 instead of ±3; `salt`
    changes the values (not where the special value goes: index `seed % n`), so that two arguments of one recipe differ;
    only with `salt=0` (a function's first argument) the values start with `FIRST`.
    Returns `(value, spec)`, with the recipe's attributes that did not apply to this dtype or shape put back to their default."""
    shape = reshaped(shape, spec.reshape)
    base_shape, layout = _plan(spec.layout, shape)
    dt, special = spec.dtype, spec.special
    vals = _ordinary(base_shape, spec.seed + salt, special, labels, 'torch', first=not salt)
    n = vals.numel()
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')                        # complex32 is "experimental", quantized tensors "deprecated"
        if dt in _STANDARD and (dt.is_floating_point or dt.is_complex):
            v = special_value(('f', torch.finfo(dt)), special) if special and n else None
            if v is not None: vals.view(-1)[spec.seed % n] = v
            t = vals.to(dt)
        elif dt in _STANDARD:
            t = vals.long().to(dt)
            v = special_value(('i', torch.iinfo(dt)), special) if special and n and dt != torch.bool else None
            if v is not None: t.view(-1)[spec.seed % n] = min(v, 2**63 - 1)      # uint64's largest is no Python-settable int64
        elif dt in QUANTIZED:
            v = None
            zp = {torch.quint8: 8, torch.quint4x2: 8, torch.quint2x4: 2}.get(dt, 0)
            t = torch.quantize_per_tensor(vals.float(), 0.5, zp, dt)
        else:                                                  # bit and sub-byte shell dtypes: raw bytes viewed as dt
            v = None
            t = vals.long().to(torch.int16 if dt.itemsize == 2 else torch.uint8).view(dt)
        if v is None: special = None
        grad = spec.grad and dt in _STANDARD and (dt.is_floating_point or dt.is_complex)
        if grad: t.requires_grad_()                            # a leaf; the argument is a view of it in any other layout
        try: t = _view(t, layout, shape, 'torch')
        except (RuntimeError, NotImplementedError): layout = 'contiguous'
        device = spec.device
        if device != 'cpu':
            try: t = t.to(device)
            except (RuntimeError, NotImplementedError): device = 'cpu'
        container = spec.container
        try:
            if container == 'parameter': t = nn.Parameter(t.detach(), requires_grad=t.is_floating_point() or t.is_complex())
            elif container == 'subclass': t = t.as_subclass(SubTensor)
            elif container == 'list': t = t.tolist()
            elif container == 'numpy': t = t.detach().numpy()
        except (RuntimeError, TypeError, NotImplementedError): container = 'tensor'
    return t, replace(spec, layout=layout, special=special, grad=grad, device=device, container=container)

def build_array(spec, shape, labels=0, salt=0):
    "A fresh NumPy value for recipe `spec` and `shape` (see `build_tensor`); returns `(value, spec)`."
    shape = reshaped(shape, spec.reshape)
    base_shape, layout = _plan(spec.layout, shape)
    dt, special = np.dtype(spec.dtype), spec.special
    vals = _ordinary(base_shape, spec.seed + salt, special, labels, 'np', first=not salt)
    n, v = vals.size, None
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        if dt.kind in 'fc':
            v = special_value(('f', np.finfo(dt)), special) if special and n else None
            if v is not None: vals.reshape(-1)[spec.seed % n] = v
            a = vals.astype(dt)
        elif dt.kind in 'iu':
            a = vals.astype(np.int64).astype(dt)
            v = special_value(('i', np.iinfo(dt)), special) if special and n else None
            if v is not None: a.reshape(-1)[spec.seed % n] = v
        elif dt.kind == 'b': a = vals.astype(dt)
        elif dt.kind in 'US': a = vals.astype(np.int64).astype(dt)
        elif dt.kind in 'mM': a = vals.astype(np.int64).astype(dt)
        else: a = vals.astype(object)
    if v is None: special = None
    a = _view(a, layout, shape, 'np')
    container = spec.container
    try:
        if container == 'subclass': a = a.view(SubArray)
        elif container == 'list': a = a.tolist()
        elif container == 'tensor': a = torch.from_numpy(np.array(a))      # a writable copy
        elif container == 'matrix':
            if a.ndim != 2: raise TypeError('not 2-D')
            with warnings.catch_warnings():
                warnings.simplefilter('ignore', PendingDeprecationWarning)
                a = np.asmatrix(a)
    except (TypeError, ValueError, RuntimeError): container = 'ndarray'
    return a, replace(spec, layout=layout, special=special, container=container)

# ---------------------------------------------------------------- numbers
def real_variants(good):
    """Every kind of number (and some things that are not one) that a learner might pass where `good` is expected:
    the plain value first, then NumPy scalars, a Fraction, a 0-d tensor and array, bool, NaN, ±inf, huge, str, None, complex."""
    out = [good]
    if isinstance(good, int) and not isinstance(good, bool):
        out += [np.int64(good), np.int32(good), np.uint8(good) if 0 <= good < 256 else np.int8(-1), float(good), Fraction(good),
                torch.tensor(good), np.array(good), 0, -1, 10**30]
    else:
        out += [np.float32(good), np.float64(good), Fraction(good).limit_denominator(10**6), Decimal(repr(good)), int(round(good)),
                torch.tensor(good), np.array(good), math.nan, math.inf, -math.inf, 1e300, Fraction(10**400), 0., -good]
    return out + [str(good), None, complex(good, 1), True]

def show(v):
    "A short readable form of a drawn value for failure messages."
    if isinstance(v, (np.generic,)) and not isinstance(v, np.ndarray): return f"np.{type(v).__name__}({v!r})" if not repr(v).startswith('np.') else repr(v)
    if isinstance(v, torch.Tensor): return f"tensor({format(v.item(), '.6g') if v.numel() == 1 and not v.is_meta else '…'}, {short(v.dtype)})"
    if isinstance(v, np.ndarray): return f"np.array({v.tolist() if v.size <= 4 else '…'})"
    if isinstance(v, int) and abs(v) > 10**9: return f"10**{len(str(abs(v))) - 1}" if str(abs(v)).strip('0') == '1' else repr(v)
    r = repr(v)
    return r if len(r) <= 40 else r[:37] + '…'

# ---------------------------------------------------------------- hypothesis strategies
def _axis(values, default, focus):
    "Draw from `values` when this axis is in focus, else keep `default`."
    return st.sampled_from(values) if focus else st.just(default)

def tensor_specs(default=T(), focus=(), dtypes=TORCH_DTYPES):
    "Recipes for one torch argument: the attributes named in `focus` are drawn, the others stay as in `default`."
    return st.builds(T, dtype=_axis(dtypes, default.dtype, 'dtype' in focus),
                     layout=_axis(LAYOUTS, default.layout, 'layout' in focus),
                     special=_axis(SPECIALS, default.special, 'special' in focus),
                     device=_axis(DEVICES, default.device, 'device' in focus),
                     container=_axis(CONTAINERS, default.container, 'container' in focus),
                     grad=_axis((False, True), default.grad, 'grad' in focus),
                     reshape=_axis((None, 'extra-dim', 'drop-dim', 'off-by-one'), default.reshape, 'shape' in focus),
                     seed=st.integers(0, 2**16))

def array_specs(default=A(), focus=(), dtypes=NP_DTYPES):
    "Recipes for one NumPy argument, as `tensor_specs`."
    return st.builds(A, dtype=_axis(dtypes, default.dtype, 'dtype' in focus),
                     layout=_axis(NP_LAYOUTS, default.layout, 'layout' in focus),
                     special=_axis(SPECIALS, default.special, 'special' in focus),
                     container=_axis(NP_CONTAINERS, default.container, 'container' in focus),
                     reshape=_axis((None, 'extra-dim', 'drop-dim', 'off-by-one'), default.reshape, 'shape' in focus),
                     seed=st.integers(0, 2**16))

AXES = ('dtype', 'layout', 'special', 'device', 'container', 'grad', 'shape')
NP_AXES = ('dtype', 'layout', 'special', 'container', 'shape')

def focuses(axes=AXES):
    "Which attributes to vary: usually one axis (one odd thing at a time), sometimes two, sometimes all of them."
    one = st.sampled_from(axes).map(lambda a: (a,))
    return st.one_of(one, one, st.tuples(st.sampled_from(axes), st.sampled_from(axes)), st.just(tuple(axes)), st.just(()))

@st.composite
def einsum_specs(draw):
    """A random einsum equation over 1 to 3 operands and the sizes of its letters: letters may repeat (diagonals), an
    operand may have '...', the output may be implicit or explicit; a letter's size is 0 to 3 and an operand may hold it as 1."""
    n_ops, ell = draw(st.integers(1, 3)), draw(st.booleans())
    letters = 'ijkl'
    terms, dims = [], []
    for i in range(n_ops):
        subs = draw(st.lists(st.sampled_from(letters), max_size=3))
        has_ell = ell and draw(st.booleans())
        at = draw(st.integers(0, len(subs))) if has_ell else None
        terms.append(''.join(subs) if at is None else ''.join(subs[:at]) + '...' + ''.join(subs[at:]))
        dims.append((subs, at))
    used = sorted({c for s, _ in dims for c in s})
    sizes = {c: draw(st.sampled_from([0, 1, 2, 3, 2, 3])) for c in used}
    ell_shape = tuple(draw(st.lists(st.sampled_from([1, 2, 3]), max_size=2)))
    spec = ','.join(terms)
    if draw(st.booleans()):
        out = draw(st.permutations(used)) [:draw(st.integers(0, len(used)))]
        spec += '->' + ('...' if ell and any(a is not None for _, a in dims) and draw(st.booleans()) else '') + ''.join(out)
    shapes = []
    for subs, at in dims:
        s = [sizes[c] if draw(st.integers(0, 4)) else 1 for c in subs]       # now and then a size-1 that broadcasts
        if at is not None:
            e = ell_shape[len(ell_shape) - draw(st.integers(0, len(ell_shape))):]
            s = s[:at] + list(e) + s[at:]
        shapes.append(tuple(s))
    spec = draw(st.sampled_from([spec] * 6 + [spec.replace(',', ' , '), spec.replace('->', ' -> '), spec.replace('...', '. ..'),
                                                spec.upper(), spec + '->', spec.replace('i', '1')]))
    return spec, shapes
