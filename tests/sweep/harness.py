"""The bad-input sweep's one rule, applied to every call: a correct result, or a clear error.

`outcome(module, fn, call, ref=..., ok=..., error=...)` calls `call()` (under a hang deadline) and accepts exactly:
- a result equal to `ref()` (tensors and arrays: same shape, same dtype, close values, NaN where the reference has
  NaN), or one for which `ok(result)` is true;
- a `TypeError` or `ValueError` whose message names `fn` (the public function the learner called).
Anything else fails the test that made the call: another exception (a raw error from deep inside torch or numpy),
an error that does not name the function, a result that differs from the reference (silently wrong), a result where
`error=True` demands an error, or a call that runs past the deadline. Every call is counted per module, and
conftest.py prints the table at the end of the run.
"""
import math, signal
from collections import defaultdict, Counter
import numpy as np
import torch

COUNTS = defaultdict(Counter)      # module -> Counter(calls=, correct=, errors=)

class Hang(BaseException): pass

def _alarm(signum, frame): raise Hang()

def same(a, b, rtol=1e-5, atol=1e-6):
    "True when `a` and `b` are the same value: recursively for tuples, lists and dicts; tensors and arrays by shape, dtype and closeness."
    if isinstance(a, torch.Tensor) or isinstance(b, torch.Tensor):
        if not (isinstance(a, torch.Tensor) and isinstance(b, torch.Tensor)): return False
        if a.shape != b.shape or a.dtype != b.dtype: return False
        if a.dtype == torch.bool or not (a.is_floating_point() or a.is_complex()): return torch.equal(a, b)
        return torch.allclose(a, b, rtol=rtol, atol=atol, equal_nan=True)
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        a, b = np.asarray(a), np.asarray(b)
        if a.shape != b.shape or a.dtype != b.dtype: return False
        if a.dtype.kind in 'biu': return bool(np.array_equal(a, b))
        return bool(np.allclose(a, b, rtol=rtol, atol=atol, equal_nan=True))
    if isinstance(a, (tuple, list)) and isinstance(b, (tuple, list)):
        return len(a) == len(b) and all(same(x, y, rtol, atol) for x, y in zip(a, b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k], rtol, atol) for k in a)
    if isinstance(a, float) or isinstance(b, float):
        return (math.isnan(a) and math.isnan(b)) or math.isclose(a, b, rel_tol=rtol, abs_tol=atol)
    return a == b

def outcome(module, fn, call, ref=None, ok=None, error=False, timeout=20, what=''):
    """Call `call()` and require a correct result (equal to `ref()`, or accepted by `ok`) or a clear error naming `fn`.
    Returns 'correct' or 'error'; raises AssertionError otherwise. `what` describes the input for the failure message."""
    COUNTS[module]['calls'] += 1
    label = f"{module}.{fn}({what})" if what else f"{module}.{fn}"
    old = signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(timeout)
    try:
        try: got = call()
        finally: signal.alarm(0)
    except Hang:
        raise AssertionError(f"{label}: still running after {timeout} s (a hang, or no limit on the size)") from None
    except (TypeError, ValueError) as e:
        if fn.split('.')[-1] not in str(e):
            raise AssertionError(f"{label}: {type(e).__name__} that does not name {fn}: {e}") from None
        COUNTS[module]['errors'] += 1
        return 'error'
    except Exception as e:
        raise AssertionError(f"{label}: raw {type(e).__name__} instead of a clear error: {e}") from None
    finally: signal.signal(signal.SIGALRM, old)
    if error: raise AssertionError(f"{label}: returned {str(got)[:200]} where a clear error was expected")
    if ref is not None:
        want = ref()
        if not same(got, want): raise AssertionError(f"{label}: silently wrong: got {str(got)[:300]}, the reference gives {str(want)[:300]}")
    elif ok is not None:
        if not ok(got): raise AssertionError(f"{label}: silently wrong: {str(got)[:300]} fails its check")
    else: raise AssertionError(f"{label}: returned a result, but the sweep gave nothing to compare it with")
    COUNTS[module]['correct'] += 1
    return 'correct'

def random_net(n, k, h, seed, zero=False):
    """Input (n, k), target (n,) and the weights of a k→h→1 net, from their own generator seeded with `seed`;
    with `zero`, the first input row and the first bias are zero (ReLU then meets exactly 0)."""
    g = torch.Generator().manual_seed(seed)
    ts = [torch.randn(*s, generator=g) for s in ((n, k), (n,), (k, h), (h,), (h, 1), (1,))]
    if zero: ts[0][0] = 0; ts[3].zero_()
    return ts

def table():
    "The per-module table: calls, correct results, clear errors."
    rows = sorted(COUNTS.items())
    lines = [f"{'module':<14} {'calls':>6} {'correct':>8} {'clear errors':>13}"]
    for m, c in rows: lines.append(f"{m:<14} {c['calls']:>6} {c['correct']:>8} {c['errors']:>13}")
    tot = sum((c for _, c in rows), Counter())
    lines.append(f"{'total':<14} {tot['calls']:>6} {tot['correct']:>8} {tot['errors']:>13}")
    return '\n'.join(lines)

def _leaves(v):
    "The tensors and arrays in `v`, also inside tuples, lists and dicts."
    if isinstance(v, (torch.Tensor, np.ndarray)): yield v
    elif isinstance(v, (tuple, list)):
        for x in v: yield from _leaves(x)
    elif isinstance(v, dict):
        for x in v.values(): yield from _leaves(x)

def _share(a, b):
    "True when tensors or arrays `a` and `b` (both non-empty, on the host) use the same memory."
    try:
        if isinstance(a, torch.Tensor) and isinstance(b, torch.Tensor):
            if a.is_meta or b.is_meta or a.device != b.device or not a.numel() or not b.numel(): return False
            pa, pb = a.untyped_storage().data_ptr(), b.untyped_storage().data_ptr()
            return pa == pb != 0
        a, b = [t.detach().numpy() if isinstance(t, torch.Tensor) else t for t in (a, b)]
        return bool(a.size and b.size and np.may_share_memory(a, b))
    except (RuntimeError, TypeError, ValueError, AttributeError): return False   # meta, GPU or exotic-dtype tensors: no host memory

def aliases(result, inputs):
    """How `result` is tied to the values in `inputs`: 'is' when it (or a tensor or array inside it) is one of them itself,
    'shares memory' when it views the memory of one, '' when neither. `torch.einsum('ij', a)` shares memory with `a`;
    returning `a` itself is 'is' (then `y.t_()` changes the caller's tensor)."""
    outs, ins = list(_leaves(result)), list(_leaves(inputs))
    if any(o is i for o in outs for i in ins): return 'is'
    return 'shares memory' if any(_share(o, i) for o in outs for i in ins) else ''
