#!/usr/bin/env python3
"""The nbgrader round trip of practice mode (#14, #24), in a virtual environment of its own.

    python3 tests/teach/check_nbgrader.py [LESSON ...]     # default: 00_matmul and 04_backward

1. Create (or reuse) the venv SCRATCHNET_NBGRADER_VENV (default /tmp/scratchnet-nbgrader-venv) and install into it, in this
   order: PyTorch (SCRATCHNET_TORCH, default torch==2.13.0; a local wheel file works too), nbgrader==0.9.6, this project.
   Torch goes first so that nothing can pull in a different (possibly multi-GB CUDA) build.
2. Write the course with `scratchnet.practice.nbgrader_course` (what `python3 dev.py nbgrader DIR` does) into a temporary folder.
3. `nbgrader generate_assignment`, then submit the students below and `nbgrader autograde` them (offline, sqlite gradebook,
   IN_TEST=1, SCRATCHNET_GRADE_TIMEOUT=20 so that a hanging exercise costs 20 s):
   - every lesson: `solutions` (the source notebook: full marks) and `blank` (the release: zero on every exercise);
   - 04_backward also: `partial` (mse, lin_grad, forward_and_backward solved, the others left blank: 3 of 5; the solved
     forward_and_backward runs on the references of the two unsolved steps), `hanging` (all solved, but relu_grad loops
     forever: 4 of 5), `exiting` (all solved, but lin_grad calls os._exit: 4 of 5), `patching` (the release, nothing
     solved, with `import scratchnet.practice as _p; _p.exercise.__exit__ = lambda self, *exc: True` prepended to the
     first solution cell: 0), `patching_checks` (every stub returns None after patching test_close, test_eq,
     torch.allclose and, from inside the function, exercise.__exit__: 0) and `rebinding` (nothing solved, the notebook's
     own `torch` and `test_close` names rebound to fakes: 0).
4. Check each grade in the gradebook. Exit status 0 when every one is as expected.
"""
import json, os, re, shutil, subprocess, sys, tempfile, venv
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
VENV = Path(os.environ.get('SCRATCHNET_NBGRADER_VENV', Path(tempfile.gettempdir()) / 'scratchnet-nbgrader-venv'))
TORCH = os.environ.get('SCRATCHNET_TORCH', 'torch==2.13.0')
BIN = VENV / ('Scripts' if os.name == 'nt' else 'bin')
PY = BIN / 'python'
ATTACK = "import scratchnet.practice as _p; _p.exercise.__exit__ = lambda self, *exc: True"

def run(*args, **kw):
    print('+', ' '.join(map(str, args)), flush=True)
    return subprocess.run([str(a) for a in args], check=True, **kw)

def setup():
    if not PY.exists(): venv.create(VENV, with_pip=True)
    pip = [PY, '-m', 'pip', 'install', '-q', '--disable-pip-version-check']
    have = subprocess.run([str(PY), '-c', 'import torch, nbgrader, scratchnet.practice'], capture_output=True).returncode == 0
    if not have:
        run(*pip, TORCH)
        run(*pip, 'nbgrader==0.9.6')
    run(*pip, '-e', ROOT)               # always: the project may have changed since the venv was made

GRADES = '''
import json, sys
from nbgrader.api import Gradebook
lesson, students = sys.argv[1], sys.argv[2:]
with Gradebook("sqlite:///gradebook.db") as gb:
    out = {}
    for student in students:
        sub = gb.find_submission_notebook(lesson, lesson, student)
        out[student] = dict(score=sub.score, max_score=sub.max_score, grades={g.name: g.score for g in sub.grades})
print(json.dumps(out))
'''

# ---- the students: each is the source notebook (all solved) or the release (nothing solved), changed a little ----
def _src(c): return ''.join(c['source']) if isinstance(c['source'], list) else c['source']
def _set(c, s): c['source'] = s.splitlines(keepends=True)

def _solution_cells(nb):
    return [c for c in nb['cells'] if c['cell_type'] == 'code' and c['metadata'].get('nbgrader', {}).get('solution')]

def _cell_defining(nb, name):
    return next(c for c in _solution_cells(nb) if re.search(rf'^def {name}\(', _src(c), re.M))

def _first_line_of(nb, name, code):
    "Put `code` first in the body of `name`'s solution (source) or in place of its stub (release)."
    c = _cell_defining(nb, name)
    s = _src(c)
    i = s.index(f'def {name}(')
    m = re.compile(r'^( *)(### BEGIN SOLUTION|raise NotImplementedError\(\))$', re.M).search(s, i)
    _set(c, s[:m.start()] + m.group(1) + code + '\n' + s[m.start():])

def _replace_stubs(nb, code):
    for c in _solution_cells(nb):
        _set(c, re.sub(r'^( *)raise NotImplementedError\(\)$', lambda m: m.group(1) + code, _src(c), flags=re.M))

def _students(lesson, source, release):
    "{student: (notebook, {grade_id: expected score})}"
    def nb(which): return json.loads(json.dumps(source if which == 'source' else release))
    names = [c['metadata']['nbgrader']['grade_id'][len('check-'):] for c in source['cells']
             if c['metadata'].get('nbgrader', {}).get('grade')]
    def expect(solved): return {f'check-{n}': float(n in solved) for n in names}
    out = {'solutions': (nb('source'), expect(names)), 'blank': (nb('release'), expect([]))}
    if lesson != '04_backward': return out
    partial = nb('source')
    for name in ('mse_grad', 'relu_grad'):
        c, r = _cell_defining(partial, name), _cell_defining(release, name)
        c['source'] = list(r['source'])
    out['partial'] = (partial, expect(['mse', 'lin_grad', 'forward_and_backward']))
    hanging = nb('source'); _first_line_of(hanging, 'relu_grad', 'while True: pass')
    out['hanging'] = (hanging, expect([n for n in names if n != 'relu_grad']))
    exiting = nb('source'); _first_line_of(exiting, 'lin_grad', 'import os; os._exit(0)')
    out['exiting'] = (exiting, expect([n for n in names if n != 'lin_grad']))
    patching = nb('release')
    first = _solution_cells(patching)[0]; _set(first, ATTACK + '\n' + _src(first))
    out['patching'] = (patching, expect([]))
    checks = nb('release')
    first = _solution_cells(checks)[0]
    _set(first, "import torch, fastcore.test as _t\n_t.test_close = _t.test_eq = lambda *a, **k: None\n"
                "torch.allclose = lambda *a, **k: True\n" + _src(first))
    _replace_stubs(checks, "import scratchnet.practice as _p; _p.exercise.__exit__ = lambda self, *exc: True; return None")
    out['patching_checks'] = (checks, expect([]))
    rebinding = nb('release')
    first = _solution_cells(rebinding)[0]
    _set(first, "class _Fake:\n    def __getattr__(self, name): return lambda *a, **k: _Fake()\n"
                "torch = _Fake(); test_close = test_eq = lambda *a, **k: None\n" + _src(first))
    _replace_stubs(rebinding, "return None")
    out['rebinding'] = (rebinding, expect([]))
    return out

def check(lesson, work):
    course = Path(work) / 'course'
    run(PY, '-c', 'import sys; from scratchnet.practice import nbgrader_course as n; n(sys.argv[1], sys.argv[2], only=[sys.argv[3]])',
        course, ROOT / 'nbs', lesson)
    env = {**os.environ, 'IN_TEST': '1', 'SCRATCHNET_GRADE_TIMEOUT': '20', 'PATH': f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
    env.pop('PYTHONPATH', None)          # the kernel must use the venv's scratchnet, nothing else
    run(BIN / 'nbgrader', 'generate_assignment', lesson, '--force', cwd=course, env=env)
    read = lambda p: json.loads(p.read_text(encoding='utf-8'))
    students = _students(lesson, read(course / 'source' / lesson / f'{lesson}.ipynb'), read(course / 'release' / lesson / f'{lesson}.ipynb'))
    for student, (nb, _) in students.items():
        dest = course / 'submitted' / student / lesson
        dest.mkdir(parents=True)
        (dest / f'{lesson}.ipynb').write_text(json.dumps(nb, indent=1), encoding='utf-8')
    run(BIN / 'nbgrader', 'autograde', lesson, '--force', cwd=course, env=env)
    out = subprocess.run([str(PY), '-c', GRADES, lesson, *students], cwd=course, env=env, check=True, capture_output=True, text=True).stdout
    res = json.loads(out.strip().splitlines()[-1])
    ok = True
    for student, (_, want) in students.items():
        got = res[student]
        grades = {k: v for k, v in got['grades'].items() if k.startswith('check-')}
        good = grades == want and got['score'] == sum(want.values()) and got['max_score'] == len(want)
        print(f"{lesson}: {student:<16} {got['score']:g}/{got['max_score']:g} (expected {sum(want.values()):g}) " + ('ok' if good else f"FAIL: {grades} != {want}"))
        ok &= good
    return ok

def main(lessons):
    setup()
    with tempfile.TemporaryDirectory() as work:
        results = [check(lesson, Path(work) / lesson) for lesson in lessons or ['00_matmul', '04_backward']]
    print("nbgrader round trip: " + ('ok' if all(results) else 'FAILED'))
    return 0 if all(results) else 1

if __name__ == '__main__': sys.exit(main(sys.argv[1:]))
