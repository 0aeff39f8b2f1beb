"""Practice mode (#14): the exercise notebooks are in sync with nbs/, leak no solution, carry nothing of nbdev, and
`scratchnet-grade` grades a blank, a partly solved and a lesson notebook end to end (a few small notebooks: about a minute)."""
import json, os, re, subprocess, sys
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

WRONG = {('00_matmul', 'matmul_elementwise'): [_mutates_b, _elementwise_drops_last_row],
         ('02_einsum', 'matmul_einsum'): [_float64_einsum, _einsum_mutates],
         ('04_backward', 'relu_grad'): [_relu_ge, _relu_mask]}
RIGHT = {'matmul_elementwise': _ref_elementwise, 'matmul_einsum': _ref_einsum, 'relu_grad': _ref_relu_grad}

def _check_code(lesson, name):
    return next(e.test for e in find_exercises(_read(ROOT / 'nbs' / f'{lesson}.ipynb')) if e.name == name)

@pytest.mark.parametrize('lesson, name, wrong', [(l, n, w) for (l, n), ws in WRONG.items() for w in ws], ids=lambda v: getattr(v, '__name__', v))
def test_check_rejects_a_wrong_solution(lesson, name, wrong):
    with pytest.raises(AssertionError):
        exec(_check_code(lesson, name), {name: wrong})

@pytest.mark.parametrize('lesson, name', list(WRONG), ids=str)
def test_check_accepts_the_lesson(lesson, name):
    exec(_check_code(lesson, name), {name: RIGHT[name]})
