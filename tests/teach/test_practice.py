"""Practice mode (#14): the exercise notebooks are in sync with nbs/, leak no solution, carry nothing of nbdev, and
`scratchnet-grade` grades a blank, a partly solved and a lesson notebook end to end (a few small notebooks: about a minute)."""
import importlib, json, os, re, subprocess, sys
from pathlib import Path
import pytest
sys.path.insert(0, str(Path(__file__).resolve().parents[2] / 'tools'))
import colab_cell
from scratchnet.practice import find_exercises, practice_notebook, solution_leaks, write_exercises, _lessons, _read, _src

ROOT = Path(__file__).resolve().parents[2]
LESSONS = _lessons(ROOT / 'nbs')
EXERCISES = sorted((ROOT / 'exercises').glob('*.ipynb'))

def test_at_least_25_exercises_covering_the_issue():
    names = {(p.stem, e.name) for p in LESSONS for e in find_exercises(_read(p))}
    assert len(names) >= 25, f"only {len(names)} exercises"
    want = {'neuron', 'relu', 'matmul_loops', 'matmul_elementwise', 'matmul_broadcast', 'matmul_einsum', 'broadcast_shapes',
            'lin', 'init_weights', 'mse', 'mse_grad', 'relu_grad', 'lin_grad', 'forward_and_backward', 'Relu', 'Lin', 'Mse',
            'MyRelu', 'LinearLayer', 'log_softmax', 'cross_entropy', 'CrossEntropy', '_sgd', 'conv2d'}
    assert not want - {n for _, n in names}, f"missing: {sorted(want - {n for _, n in names})}"
    assert {n for s, n in names if s == '10_numpy'} >= {'matmul_broadcast', 'forward_and_backward'}

def test_exercise_notebooks_in_sync():
    stale = write_exercises(ROOT / 'nbs', ROOT / 'exercises', check=True)
    assert not stale, f"out of date: {[str(p.relative_to(ROOT)) for p in stale]}: run `python3 dev.py exercises` and commit"
    assert [p.name for p in EXERCISES] == [p.name for p in LESSONS]

@pytest.mark.parametrize('lesson', LESSONS, ids=lambda p: p.stem)
def test_no_solution_leaks(lesson):
    ex = _read(ROOT / 'exercises' / lesson.name)
    assert solution_leaks(_read(lesson), ex) == []
    assert all(c.get('outputs', []) == [] for c in ex['cells'])

@pytest.mark.parametrize('nb', EXERCISES, ids=lambda p: p.stem)
def test_exercise_notebook_layout(nb):
    cells = _read(nb)['cells']
    assert cells[0]['cell_type'] == 'code' and _src(cells[0]) == colab_cell.cell_source()
    for c in cells:
        assert not re.search(r'^\s*#\s*\|\s*(export|exporti|exports|default_exp|exercise|hint)\b', _src(c), re.M), (nb.name, c['id'])
        assert 'nbdev_' 'export' not in _src(c), (nb.name, c['id'])
    checks = [c for c in cells if c['id'].endswith('-check')]
    ids = [c['id'] for c in cells]
    for e in find_exercises(_read(ROOT / 'nbs' / nb.name)):       # the check comes right after its exercise (or its cell-mates' checks)
        i, t = ids.index(f"{e.cell_id}-check"), ids.index(e.target_id)
        assert all(ids[j].endswith('-check') for j in range(t + 1, i)), (nb.name, e.name)
    assert len(checks) == len(find_exercises(_read(ROOT / 'nbs' / nb.name)))
    assert 'exercise_summary' in _src(cells[-1])

def _grade(tmp_path, *paths):
    "Run `scratchnet-grade` exactly as its console-script wrapper does; return (exit status, output lines)."
    script = tmp_path / 'scratchnet-grade'
    script.write_text("import sys\nfrom scratchnet.practice import grade_main\nsys.exit(grade_main())\n")
    env = {**os.environ, 'PYTHONPATH': os.pathsep.join([str(ROOT), os.environ.get('PYTHONPATH', '')])}
    p = subprocess.run([sys.executable, str(script), *map(str, paths)], capture_output=True, text=True, env=env, timeout=600)
    return p.returncode, p.stdout.strip().splitlines()

def test_grade_blank_and_lesson(tmp_path):
    rc, out = _grade(tmp_path, ROOT / 'exercises' / '00_matmul.ipynb', ROOT / 'nbs' / '00_matmul.ipynb', ROOT / 'nbs' / '90_checks.ipynb')
    assert out[-1] == 'exercises: 4 solved, 4 unsolved, 0 errors', out
    assert rc == 1
    assert sum(' unsolved' in l and l.startswith('exercises/') for l in out) == 4
    assert sum(' solved' in l and l.startswith('nbs/') for l in out) == 4
    assert any('90_checks.ipynb: no exercises' in l for l in out)

def test_grade_partly_solved(tmp_path):
    "Solve Mse, get Relu wrong, leave Lin: each is reported on its own, and the rest of the lesson still runs."
    nb = _read(ROOT / 'exercises' / '05_refactor.ipynb')
    lesson = _read(ROOT / 'nbs' / '05_refactor.ipynb')
    target = next(e.target_id for e in find_exercises(lesson) if e.name == 'Mse')
    cell = next(c for c in nb['cells'] if c['id'] == target)
    src = _src(cell)
    src = src.replace("raise NotImplementedError('exercise Relu.forward: not solved yet, replace this line with your code')", "return inp.abs()")
    src = src.replace("raise NotImplementedError('exercise Mse.forward: not solved yet, replace this line with your code')",
                      "return (inp.squeeze(-1) - targ).pow(2).mean()")
    src = src.replace("raise NotImplementedError('exercise Mse.bwd: not solved yet, replace this line with your code')",
                      "inp.g = 2. * (inp.squeeze(-1) - targ).view_as(inp) / targ.shape[0]")
    cell['source'] = src.splitlines(keepends=True)
    path = tmp_path / '05_refactor.ipynb'
    path.write_text(json.dumps(nb))
    rc, out = _grade(tmp_path, path)
    rows = {l.split()[1]: l.split()[2] for l in out[1:-1]}
    assert rows == {'Relu': 'error', 'Lin': 'unsolved', 'Mse': 'solved'}, out
    assert out[-1] == 'exercises: 1 solved, 1 unsolved, 1 errors' and rc == 1

def test_grade_lesson_all_solved(tmp_path):
    rc, out = _grade(tmp_path, ROOT / 'nbs' / '05_refactor.ipynb')
    assert out[-1] == 'exercises: 3 solved, 0 unsolved, 0 errors', out
    assert rc == 0

# ---- #24: true verdicts in practice mode ----
def test_summary_counts_an_error_as_an_error():
    from scratchnet.practice import exercise, exercise_summary
    with exercise('t24_err', ns={}): assert 0
    with exercise('t24_ok', ns={}): pass
    s = exercise_summary(['t24_err', 't24_ok', 't24_never'])
    assert [r.status for r in s.results] == ['error', 'solved', 'unsolved'], s
    assert s.counts == {'solved': 1, 'unsolved': 1, 'error': 1}

@pytest.mark.parametrize('exc', [KeyboardInterrupt, SystemExit])
def test_an_interrupt_installs_the_reference_then_propagates(exc):
    from scratchnet.practice import exercise, exercise_summary
    ns = {'relu': lambda x: 'broken'}
    with pytest.raises(exc):
        with exercise('relu', fallback='scratchnet.init.relu', ns=ns): raise exc()
    from scratchnet.init import relu
    assert ns['relu'] is relu                                   # the broken version is gone before the interrupt goes on
    assert exercise_summary(['relu']).results[0].status == 'error'

# ---- #24: the checks reject the usual mistakes (tests of the tests) ----
import torch
from scratchnet.matmul import matmul_elementwise as _ref_elementwise
from scratchnet.einsum import matmul_einsum as _ref_einsum
from scratchnet.backward import relu_grad as _ref_relu_grad

def _mutates_b(a, b):
    b.mul_(2); return a @ b                  # right for the b it leaves behind: a test that computes its reference afterwards is fooled
def _float64_einsum(a, b): return torch.einsum('ik,kj->ij', a.double(), b.double())
def _einsum_mutates(a, b):
    r = _ref_einsum(a, b); a.zero_(); return r
def _relu_ge(inp, out): inp.g = out.g * (inp >= 0)
def _relu_mask(inp, out): inp.g = out.g * (inp > 0).float()      # the book's mask: nan where an inf gradient meets a 0
def _elementwise_drops_last_row(a, b):
    r = _ref_elementwise(a, b); r[-1] = 0; return r

from scratchnet.broadcasting import broadcast_shapes as _ref_bs, matmul_broadcast as _ref_mb, _as_shape
from scratchnet.backward import mse as _ref_mse, mse_grad as _ref_mse_grad, lin_grad as _ref_lin_grad
from scratchnet.backward import forward_and_backward as _ref_fab

def _bs_larger_wins(*shapes):              # "the larger size wins": (1, 0) with (0, 1) gives (1, 1), not (0, 0)
    shapes = [_as_shape(s, 'broadcast_shapes') for s in shapes]
    nd = len(_ref_bs(*shapes))
    return tuple(max([s[d] for s in shapes if len(s) >= -d] or [1]) for d in range(-nd, 0))
def _bs_pads_in_place(*shapes):            # pads a list shape with 1s on the left, in the caller's list
    nd = max((len(s) for s in shapes if isinstance(s, list)), default=0)
    for s in shapes:
        while isinstance(s, list) and len(s) < nd: s.insert(0, 1)
    return _ref_bs(*shapes)
def _bs_list(*shapes): return list(_ref_bs(*shapes))
def _bs_own_words(*shapes):                # right, but its own error message: the lesson's later cells expect the docstring's
    try: return _ref_bs(*shapes)
    except ValueError: raise ValueError("these shapes do not broadcast") from None
def _bs_no_as_shape(*shapes):              # reads the shapes itself, so a size of -1 goes through unnoticed
    shapes = [(s,) if isinstance(s, int) else tuple(s) for s in shapes]
    return _ref_bs(*[tuple(max(d, 0) for d in s) for s in shapes])
def _mb_float32(a, b):                     # zeros of the default dtype: float64 inputs give a float32 result
    c = torch.zeros(a.shape[0], b.shape[1])
    for i in range(a.shape[0]): c[i] = (a[i, :, None] * b).sum(dim=0)
    return c
def _mb_mutates_b(a, b):
    b.mul_(2); return _ref_mb(a, b)
def _mb_skips_last_row(a, b):
    c = torch.zeros(a.shape[0], b.shape[1], dtype=torch.result_type(a, b))
    for i in range(a.shape[0] - 1): c[i] = (a[i, :, None] * b).sum(dim=0)
    return c
def _mse_no_squeeze(output, targ): return (output - targ).pow(2).mean()          # (n, 1) - (n,): an (n, n) table
def _mse_squeezes_in_place(output, targ): return (output.squeeze_(-1) - targ).pow(2).mean() if output.ndim == 2 else _ref_mse(output, targ)
def _mse_float(output, targ): return _ref_mse(output, targ).item()
def _mse_grad_flat(inp, targ): inp.g = 2. * (inp.squeeze(-1) - targ) / inp.shape[0]            # shaped like targ, not like inp
def _mse_grad_mutates(inp, targ): inp.g = 2. * inp.squeeze(-1).sub_(targ).view_as(inp) / inp.shape[0]
def _mse_grad_no_2(inp, targ): inp.g = (inp.squeeze(-1) - targ).view_as(inp) / inp.shape[0]
def _lin_grad_no_transpose(inp, out, w, b):                                      # fits only when w is square
    _ref_lin_grad(inp, out, w, b)
    if w.shape[0] == w.shape[1]: inp.g = out.g @ w
def _lin_grad_bias_mean(inp, out, w, b):
    _ref_lin_grad(inp, out, w, b); b.g = out.g.mean(0)
def _lin_grad_bias_keepdim(inp, out, w, b):
    _ref_lin_grad(inp, out, w, b); b.g = out.g.sum(0, keepdim=True)
def _fab_bias_mean(inp, targ, w1, b1, w2, b2):
    loss = _ref_fab(inp, targ, w1, b1, w2, b2)
    for b in (b1, b2): b.g = b.g / inp.shape[0]
    return loss
def _fab_float_loss(inp, targ, w1, b1, w2, b2): return float(_ref_fab(inp, targ, w1, b1, w2, b2))
def _fab_relu_slope_1_at_0(inp, targ, w1, b1, w2, b2):                         # the book's clamp: slope 1 at exactly 0
    l1 = inp @ w1 + b1; l2 = l1.clamp_min(0.); out = l2 @ w2 + b2
    diff = out[:, 0] - targ; loss = diff.pow(2).mean()
    out.g = (2. * diff / inp.shape[0])[:, None]
    l2.g = out.g @ w2.t(); w2.g = l2.t() @ out.g; b2.g = out.g.sum(0)
    l1.g = l2.g * (l1 >= 0).float()
    inp.g = l1.g @ w1.t(); w1.g = inp.t() @ l1.g; b1.g = l1.g.sum(0)
    return loss

# the other lessons' exercises: each wrong solution passed the check that the lesson had before #24
from torch.autograd import Function
from scratchnet.matmul import matmul_loops as _ref_loops
from scratchnet.init import init_weights as _ref_init, relu as _ref_relu, _INIT_STD
from scratchnet.layers import Relu as _RefRelu, Lin as _RefLin, Mse as _RefMse
from scratchnet.modules import MyRelu as _RefMyRelu, LinearLayer as _RefLinearLayer
from scratchnet.training import log_softmax as _ref_log_softmax, cross_entropy as _ref_ce, CrossEntropy as _RefCE, accuracy as _ref_acc
from scratchnet.conv import conv2d as _ref_conv2d
import numpy as np
import scratchnet.npnet as _np_ref

def _neuron_float(x, w, b): return ((x * w).sum() + b).clamp_min(0.)       # 0.: integer inputs give a float
def _neuron_number(x, w, b): return max(0., float((x * w).sum() + b))      # a Python float, not a tensor
def _neuron_adds_into_b(x, w, b):
    b += (x * w).sum()                                      # in place when b is a tensor: the caller's bias changes
    return b.clamp_min(0)
def _loops_float64(a, b):                                   # "for precision": float32 inputs give a float64 result
    c = torch.zeros(a.shape[0], b.shape[1], dtype=torch.float64)
    for i in range(a.shape[0]):
        for j in range(b.shape[1]):
            for l in range(a.shape[1]): c[i, j] += a[i, l] * b[l, j]
    return c
def _loops_mutates_b(a, b):
    b.mul_(2); return _ref_loops(a, b)                      # right for the b it leaves behind
def _mp_float_sum(a, b): return [[sum((x * y for x, y in zip(r, c)), 0.) for c in zip(*b)] for r in a]   # 19.0, not 19
def _mp_tuples(a, b): return [tuple(sum(x * y for x, y in zip(r, c)) for c in zip(*b)) for r in a]
def _mp_transposes_b_in_place(a, b):
    b[:] = [list(c) for c in zip(*b)]                       # the columns of b, in the caller's list
    return [[sum(x * y for x, y in zip(r, c)) for c in b] for r in a]
def _lin_squeeze(x, w, b): return (x @ w + b).squeeze()    # a batch of one, or one output, loses its axis
def _lin_float32(x, w, b): return (x @ w + b).float()
def _relu_in_place(x): return x.clamp_min_(0.)
def _relu_mask_mul(x): return x * (x > 0)                       # -inf · 0 is nan
def _init_uniform(n_in, n_out, kind='kaiming', generator=None, dtype=None, device=None):   # the right std, but not normal
    if isinstance(generator, int): generator = torch.Generator().manual_seed(generator)
    u = torch.rand(n_in, n_out, generator=generator, dtype=dtype) * 2 - 1
    return u * 3 ** 0.5 * _INIT_STD[kind](n_in)
def _init_global_seed(n_in, n_out, kind='kaiming', generator=None, dtype=None, device=None):
    if isinstance(generator, int): torch.manual_seed(generator); generator = None    # reseeds torch's global generator
    return _ref_init(n_in, n_out, kind, generator, dtype, device)
def _init_ignores_generator(n_in, n_out, kind='kaiming', generator=None, dtype=None, device=None):
    g = torch.Generator().manual_seed(generator) if isinstance(generator, int) else None   # a Generator object is ignored
    return torch.randn(n_in, n_out, generator=g, dtype=dtype) * _INIT_STD[kind](n_in)

class _Relu_ge(_RefRelu):
    def bwd(self, out, inp): inp.g = out.g * (inp >= 0)     # slope 1 at exactly 0
class _Relu_in_place(_RefRelu):
    def forward(self, inp): return inp.clamp_min_(0.)
class _Relu_mask(_RefRelu):
    def bwd(self, out, inp): inp.g = out.g * (inp > 0).float()    # nan where an inf gradient meets a 0
class _Lin_book(_RefLin):
    def bwd(self, out, inp):                                # the book's: the weight gradient from self.out.g
        super().bwd(out, inp); self.w.g = inp.t() @ self.out.g
class _Lin_bias_keepdim(_RefLin):
    def bwd(self, out, inp): super().bwd(out, inp); self.b.g = out.g.sum(0, keepdim=True)
class _Mse_float(_RefMse):
    def forward(self, inp, targ): return super().forward(inp, targ).item()
class _Mse_column_targ(_RefMse):
    def forward(self, inp, targ): return (inp - targ[:, None]).pow(2).mean()      # right for (n, 1) only: (n,) gives an (n, n) table

class _MyRelu_ge(Function):
    @staticmethod
    def forward(ctx, i): ctx.save_for_backward(i); return i.clamp_min(0.)
    @staticmethod
    def backward(ctx, grad_output): i, = ctx.saved_tensors; return grad_output * (i >= 0)      # slope 1 at exactly 0
class _MyRelu_mask(_MyRelu_ge):
    @staticmethod
    def backward(ctx, grad_output): i, = ctx.saved_tensors; return grad_output * (i > 0)       # nan where inf meets 0
class _LL_squeeze(_RefLinearLayer):
    def forward(self, x): return super().forward(x).squeeze()          # a batch of one loses its axis
class _LL_bias_data(_RefLinearLayer):
    def forward(self, x): return x @ self.weight.t() + self.bias.data   # autograd never reaches the bias

def _ls_in_place(x):
    x -= x.max(dim=1, keepdim=True).values                  # shifts the caller's logits
    return x - x.exp().sum(1, keepdim=True).log()
def _ls_float32(x): return torch.log_softmax(x, dim=1).float()
def _ce_log_softmax_naive(inp, targ): return -torch.softmax(inp, 1).log().gather(1, targ.long()[:, None]).mean()   # log(0) for large logits
def _ce_float32(inp, targ): return _ref_ce(inp.float(), targ)
class _CE_naive_softmax(_RefCE):
    def bwd(self, out, inp, targ):
        e = inp.exp(); onehot = torch.zeros_like(inp).scatter_(1, targ.long()[:, None], 1.)
        inp.g = (e / e.sum(1, keepdim=True) - onehot) / inp.shape[0]          # inf / inf for large logits
class _CE_float(_RefCE):
    def forward(self, inp, targ): return _ref_ce(inp, targ).item()
def _acc_binary_round(preds, targ): return (preds[:, -1].round() == targ).float().mean()   # right for two classes only
def _acc_mutates_targ(preds, targ): return (targ.sub_(preds.argmax(dim=1)) == 0).float().mean()
@torch.no_grad()
def _sgd_scales_grad(params, grads, lr, momentum, velocities):
    for i, (p, g) in enumerate(zip(params, grads)):
        if g is None: continue
        if momentum: g = velocities[i].mul_(momentum).add_(g)
        p.sub_(g.mul_(lr))                                  # scales the gradient (or the velocity) in place
@torch.no_grad()
def _sgd_lr_in_velocity(params, grads, lr, momentum, velocities):
    for i, (p, g) in enumerate(zip(params, grads)):
        if g is None: continue
        g = velocities[i].mul_(momentum).add_(g, alpha=lr) if momentum else g * lr   # the velocity holds lr·g
        p.sub_(g)
def _conv_squeeze(x, weight, bias=None, stride=1, padding=0, dilation=1): return _ref_conv2d(x, weight, bias, stride, padding, dilation).squeeze()
def _conv_float32(x, weight, bias=None, stride=1, padding=0, dilation=1): return _ref_conv2d(x, weight, bias, stride, padding, dilation).float()
def _np_mb_float64(a, b):                                   # zeros of the default dtype: integers give floats
    c = np.zeros((a.shape[0], b.shape[1]))
    for i in range(a.shape[0]): c[i] = (a[i, :, None] * b).sum(axis=0)
    return c
def _np_mb_a_dtype(a, b):                                   # zeros like a: an integer a truncates a float product
    c = np.zeros((a.shape[0], b.shape[1]), dtype=a.dtype)
    for i in range(a.shape[0]): c[i] = (a[i, :, None] * b).sum(axis=0)
    return c
def _np_lg_bias_keepdim(inp, out_g, w, b, input_grad=True):
    i, wg, _ = _np_ref.lin_grad(inp, out_g, w, b, input_grad); return i, wg, out_g.sum(0, keepdims=True)
def _np_lg_bias_ones_row(inp, out_g, w, b, input_grad=True):
    i, wg, _ = _np_ref.lin_grad(inp, out_g, w, b, input_grad); return i, wg, np.ones(len(inp)) @ out_g   # float64 ones
def _np_fab_relu_ge(inp, targ, w1, b1, w2, b2):             # the book's clamp: slope 1 at exactly 0
    r = _np_ref
    l1 = r.lin(inp, w1, b1); l2 = np.maximum(l1, 0); out = r.lin(l2, w2, b2)
    out_g = r.mse_grad(out, targ)
    l2_g, w2_g, b2_g = r.lin_grad(l2, out_g, w2, b2)
    l1_g = l2_g * (l1 >= 0)
    inp_g, w1_g, b1_g = r.lin_grad(inp, l1_g, w1, b1)
    return r.mse(out, targ), dict(inp=inp_g, w1=w1_g, b1=b1_g, w2=w2_g, b2=b2_g)
def _np_fab_float64(inp, targ, w1, b1, w2, b2):             # "for precision": float32 inputs give float64 gradients
    return _np_ref.forward_and_backward(*[a.astype(np.float64) for a in (inp, targ, w1, b1, w2, b2)])

WRONG = {('00_matmul', 'matmul_elementwise'): [_mutates_b, _elementwise_drops_last_row],
         ('01_broadcasting', 'broadcast_shapes'): [_bs_larger_wins, _bs_pads_in_place, _bs_list, _bs_own_words, _bs_no_as_shape],
         ('01_broadcasting', 'matmul_broadcast'): [_mb_float32, _mb_skips_last_row, _mb_mutates_b],
         ('02_einsum', 'matmul_einsum'): [_float64_einsum, _einsum_mutates],
         ('04_backward', 'mse'): [_mse_no_squeeze, _mse_squeezes_in_place, _mse_float],
         ('04_backward', 'mse_grad'): [_mse_grad_flat, _mse_grad_mutates, _mse_grad_no_2],
         ('04_backward', 'lin_grad'): [_lin_grad_no_transpose, _lin_grad_bias_mean, _lin_grad_bias_keepdim],
         ('04_backward', 'relu_grad'): [_relu_ge, _relu_mask],
         ('04_backward', 'forward_and_backward'): [_fab_bias_mean, _fab_float_loss, _fab_relu_slope_1_at_0],
         ('00_matmul', 'neuron'): [_neuron_float, _neuron_number, _neuron_adds_into_b],
         ('00_matmul', 'matmul_loops'): [_loops_float64, _loops_mutates_b],
         ('00_matmul', 'matmul_python'): [_mp_float_sum, _mp_tuples, _mp_transposes_b_in_place],
         ('03_init', 'lin'): [_lin_squeeze, _lin_float32],
         ('03_init', 'relu'): [_relu_in_place, _relu_mask_mul],
         ('03_init', 'init_weights'): [_init_uniform, _init_global_seed, _init_ignores_generator],
         ('05_refactor', 'Relu'): [_Relu_ge, _Relu_in_place, _Relu_mask],
         ('05_refactor', 'Lin'): [_Lin_book, _Lin_bias_keepdim],
         ('05_refactor', 'Mse'): [_Mse_float, _Mse_column_targ],
         ('06_pytorch', 'MyRelu'): [_MyRelu_ge, _MyRelu_mask],
         ('06_pytorch', 'LinearLayer'): [_LL_squeeze, _LL_bias_data],
         ('08_training', 'log_softmax'): [_ls_in_place, _ls_float32],
         ('08_training', 'cross_entropy'): [_ce_log_softmax_naive, _ce_float32],
         ('08_training', 'CrossEntropy'): [_CE_naive_softmax, _CE_float],
         ('08_training', 'accuracy'): [_acc_binary_round, _acc_mutates_targ],
         ('08_training', '_sgd'): [_sgd_scales_grad, _sgd_lr_in_velocity],
         ('09_conv', 'conv2d'): [_conv_squeeze, _conv_float32],
         ('10_numpy', 'matmul_broadcast'): [_np_mb_float64, _np_mb_a_dtype],
         ('10_numpy', 'lin_grad'): [_np_lg_bias_keepdim, _np_lg_bias_ones_row],
         ('10_numpy', 'forward_and_backward'): [_np_fab_relu_ge, _np_fab_float64]}

def _check_code(lesson, name):
    return next(e.test for e in find_exercises(_read(ROOT / 'nbs' / f'{lesson}.ipynb')) if e.name == name)

@pytest.mark.parametrize('lesson, name, wrong', [(l, n, w) for (l, n), ws in WRONG.items() for w in ws], ids=lambda v: getattr(v, '__name__', v))
def test_check_rejects_a_wrong_solution(lesson, name, wrong):
    with pytest.raises(AssertionError):
        exec(_check_code(lesson, name), {name: wrong})

@pytest.mark.parametrize('lesson, name', list(WRONG), ids=str)
def test_check_accepts_the_lesson(lesson, name):
    e = next(e for e in find_exercises(_read(ROOT / 'nbs' / f'{lesson}.ipynb')) if e.name == name)
    mod, attr = e.reference.rsplit('.', 1)                  # the lesson's own solution (10_numpy has its own lin_grad)
    exec(e.test, {name: getattr(importlib.import_module(mod), attr)})

# ---- #24: each exercise graded on its own; a correct solution grades clean ----
import time

def _solved_practice(lesson, edits=(), bodies=None):
    """The exercise notebook of `lesson` as a learner who solves everything leaves it: each stub line replaced by the
    lesson's body (below the checks that the stub keeps), or by `bodies[name]`, the code a learner would write there.
    For each `(name, code)` in `edits`, `code` goes first in that body."""
    nb = practice_notebook(_read(ROOT / 'nbs' / f'{lesson}.ipynb'), 'exercise', lesson)
    marked = {c['id']: _src(c) for c in practice_notebook(_read(ROOT / 'nbs' / f'{lesson}.ipynb'), 'nbgrader', lesson)['cells']}
    for c in nb['cells']:
        if 'raise NotImplementedError(' not in _src(c) or c['id'].endswith('-check'): continue
        src = marked[c['id']]
        for name, body in (bodies or {}).items():
            if re.search(rf'^def {name}\(', src, re.M):
                i = src.index('### BEGIN SOLUTION', src.index(f'def {name}('))
                j = src.index('### END SOLUTION', i)
                ind = src[src.rindex('\n', 0, i) + 1:i]
                src = src[:i] + '### BEGIN SOLUTION\n' + ind + body + '\n' + ind + src[j:]
        for name, code in edits:
            if re.search(rf'^def {name}\(', src, re.M):
                i = src.index('### BEGIN SOLUTION', src.index(f'def {name}('))
                line_start = src.rindex('\n', 0, i) + 1
                src = src[:i] + code + '\n' + src[line_start:i] + src[i:]
        c['source'] = re.sub(r'^ *### (BEGIN|END) SOLUTION\n', '', src + '\n', flags=re.M).rstrip('\n').splitlines(keepends=True)
    return nb

def test_grade_a_correct_notebook_is_clean(tmp_path):
    """The exercise notebook with every exercise solved: all solved, no other error, exit 0 (#24: the stub had dropped
    neuron's `b` check, so the lesson's own tests of it failed)."""
    path = tmp_path / '00_matmul.ipynb'
    path.write_text(json.dumps(_solved_practice('00_matmul', bodies={'neuron': 'return ((x * w).sum() + b).clamp_min(0)'})))
    rc, out = _grade(tmp_path, path)
    assert out[-1] == 'exercises: 4 solved, 0 unsolved, 0 errors', out
    assert rc == 0

def test_stub_keeps_every_check():
    "neuron checks its `b` with `check_shapes(...) if ... else check_number(...)`: the exercise notebook keeps that line."
    cell = next(_src(c) for c in _read(ROOT / 'exercises' / '00_matmul.ipynb')['cells'] if _src(c).startswith('def neuron('))
    assert "check_number('neuron', b=b)" in cell and "check_shapes('neuron', b=" in cell, cell

def test_grade_isolates_a_hang_and_an_exit(tmp_path):
    "One exercise loops forever, one calls os._exit: those two are errors that say so, the other two are solved (the 600 s is a hang guard)."
    timeout = 20
    nb = _solved_practice('00_matmul', [('matmul_loops', 'while True: pass'), ('matmul_python', 'import os; os._exit(0)')])
    path = tmp_path / '00_matmul.ipynb'
    path.write_text(json.dumps(nb))
    script = tmp_path / 'scratchnet-grade'
    script.write_text("import sys\nfrom scratchnet.practice import grade_main\nsys.exit(grade_main())\n")
    env = {**os.environ, 'PYTHONPATH': os.pathsep.join([str(ROOT), os.environ.get('PYTHONPATH', '')])}
    p = subprocess.run([sys.executable, str(script), str(path), '--timeout', str(timeout)], capture_output=True, text=True, env=env, timeout=600)
    out = p.stdout.strip().splitlines()
    rows = {l.split()[1]: l for l in out[1:-1]}
    assert set(rows) == {'neuron', 'matmul_loops', 'matmul_python', 'matmul_elementwise'}, out   # no other cell failed
    assert ' solved' in rows['neuron'] and ' solved' in rows['matmul_elementwise'], out
    assert f'error     timed out after {timeout} s' in rows['matmul_loops'], out
    assert 'error     exited: the Python kernel ended' in rows['matmul_python'], out
    assert out[-1] == 'exercises: 2 solved, 0 unsolved, 2 errors' and p.returncode == 1, out

# ---- #24: nbgrader grade cells cannot be bought by patching the course ----
_KERNEL = r'''
import json, sys
from IPython.core.interactiveshell import InteractiveShell
shell = InteractiveShell.instance()              # stands in for nbgrader's kernel: the cells run one after the other
for src in json.load(sys.stdin):
    ok = shell.run_cell(src, store_history=True).success
    if src.startswith('# scratchnet grade: '): print('GRADE', src.split('\n')[0][len('# scratchnet grade: '):], ok, flush=True)
'''
ATTACK = "import scratchnet.practice as _p; _p.exercise.__exit__ = lambda self, *exc: True"

def _grade_cells(lesson, upto, solved, first='', body=None):
    """Run the nbgrader notebook of `lesson` up to the grade cell of `upto` in a stand-in kernel: `solved` keeps the
    solutions (else the stubs nbgrader releases, or `body` in their place), `first` goes before the first solution cell.
    Return {exercise: whether its grade cell passed}."""
    nb = practice_notebook(_read(ROOT / 'nbs' / f'{lesson}.ipynb'), 'nbgrader', lesson)
    cells, seen_solution = [], False
    for c in nb['cells']:
        if c['cell_type'] != 'code': continue
        src = _src(c)
        if c['metadata'].get('nbgrader', {}).get('solution'):
            if not solved:
                src = re.sub(r'^( *)### BEGIN SOLUTION\n.*?### END SOLUTION', lambda m: m.group(1) + (body or 'raise NotImplementedError()'),
                             src, flags=re.S | re.M)
            if not seen_solution: src, seen_solution = first + '\n' + src, True
        cells.append(src)
        if src.startswith(f'# scratchnet grade: {upto}\n'): break
    env = {**os.environ, 'IN_TEST': '1', 'PYTHONPATH': os.pathsep.join([str(ROOT), os.environ.get('PYTHONPATH', '')])}
    out = subprocess.run([sys.executable, '-c', _KERNEL], input=json.dumps(cells), capture_output=True, text=True, env=env,
                         timeout=600, cwd=ROOT / 'nbs').stdout
    return {l.split()[1]: l.split()[2] == 'True' for l in out.splitlines() if l.startswith('GRADE ')}

def test_grade_cells_pass_the_solutions_and_fail_the_blank():
    assert _grade_cells('04_backward', 'mse_grad', solved=True) == {'mse': True, 'mse_grad': True}
    assert _grade_cells('04_backward', 'mse_grad', solved=False) == {'mse': False, 'mse_grad': False}

PATCHES = {
    'exit_patched_first': dict(first=ATTACK),                                           # the issue's one line
    'exit_patched_in_the_function': dict(body=ATTACK.replace('; ', '\n    ') + '\n    return None'),
    'checks_patched': dict(first="import torch, fastcore.test as _t\n_t.test_close = _t.test_eq = lambda *a, **k: None\n"
                                 "torch.allclose = lambda *a, **k: True", body='return None'),
    'module_swapped': dict(first="import sys, types\n_m = types.ModuleType('fastcore.test')\n"
                                 "_m.test_close = _m.test_eq = _m.test_fail = lambda *a, **k: None\nsys.modules['fastcore.test'] = _m",
                           body='return None'),
    'names_rebound': dict(first="class _Fake:\n    def __getattr__(self, name): return lambda *a, **k: _Fake()\n"
                                "torch = _Fake(); test_close = test_eq = lambda *a, **k: None", body='return None'),
    'kernel_side_patched': dict(first="import scratchnet.practice as _p\n_p.graded = lambda *a, **k: None\n"
                                      "_p.grade_child = lambda: print('solved')\n" + ATTACK),
}

@pytest.mark.parametrize('how', list(PATCHES))
def test_grade_cells_resist_patching(how):
    assert _grade_cells('04_backward', 'mse', solved=False, **PATCHES[how]) == {'mse': False}

@pytest.mark.parametrize('path', LESSONS, ids=lambda p: p.stem)
def test_released_notebook_gives_no_solution_away(path):
    """No cell of a lesson's practice notebooks, outside the exercise's own cell, shows more than half of an exercise's
    solution lines (two at least): not 04's lin_grad table (#24), nor a 'buggy' copy of forward_and_backward, nor 05's book
    `Lin` or 06's `BrokenRelu` written out in full. (The table of 04's forward pass, the model that the lesson sets out to
    differentiate, shows half of forward_and_backward; 09's exported `Conv2dFunction` shows half of conv2d.)"""
    from scratchnet.practice import stub_cell
    lesson = _read(path)
    cells = {c['id']: _src(c) for c in lesson['cells']}
    for mode in ('exercise', 'nbgrader'):
        practice = practice_notebook(lesson, mode, path.stem)
        for e in find_exercises(lesson):
            _, sol = stub_cell(cells[e.target_id], [e])
            lines = {l.strip() for l in sol if len(l.strip()) >= 10 and not l.strip().startswith('#')}
            for c in practice['cells']:
                if c['id'] in (e.target_id, f'{e.cell_id}-check'): continue
                shown = [l for l in lines if l in _src(c)]
                assert len(shown) < 2 or 2 * len(shown) <= len(lines), (mode, e.name, c['id'], shown)

def test_every_check_reads_only_its_exercise():
    "A grade cell's tests get nothing else from the notebook, so every check must import or build all else it uses."
    from scratchnet.practice import _free_names
    for p in LESSONS:
        for e in find_exercises(_read(p)): assert _free_names(e.test) == [e.name], (p.stem, e.name, _free_names(e.test))
