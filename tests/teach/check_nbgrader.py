#!/usr/bin/env python3
"""The nbgrader round trip of practice mode (#14), in a virtual environment of its own.

    python3 tests/teach/check_nbgrader.py [LESSON ...]     # default: 00_matmul

1. Create (or reuse) the venv SCRATCHNET_NBGRADER_VENV (default /tmp/scratchnet-nbgrader-venv) and install into it, in this
   order: PyTorch (SCRATCHNET_TORCH, default torch==2.13.0; a local wheel file works too), nbgrader==0.9.6, this project.
   Torch goes first so that nothing can pull in a different (possibly multi-GB CUDA) build.
2. Write the course with `scratchnet.practice.nbgrader_course` (what `python3 dev.py nbgrader DIR` does) into a temporary folder.
3. `nbgrader generate_assignment`, then submit two notebooks: the lesson's own solutions (the source notebook) and the
   released blank, and `nbgrader autograde` both (offline, sqlite gradebook, IN_TEST=1).
4. Check the gradebook: the solutions get full marks, the blank gets zero on every exercise. Exit status 0 when both hold.
"""
import json, os, shutil, subprocess, sys, tempfile, venv
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
VENV = Path(os.environ.get('SCRATCHNET_NBGRADER_VENV', Path(tempfile.gettempdir()) / 'scratchnet-nbgrader-venv'))
TORCH = os.environ.get('SCRATCHNET_TORCH', 'torch==2.13.0')
BIN = VENV / ('Scripts' if os.name == 'nt' else 'bin')
PY = BIN / 'python'

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
lesson, names = sys.argv[1], sys.argv[2:]
with Gradebook("sqlite:///gradebook.db") as gb:
    out = {}
    for student in ("solutions", "blank"):
        sub = gb.find_submission_notebook(lesson, lesson, student)
        out[student] = dict(score=sub.score, max_score=sub.max_score,
                            grades={g.name: g.score for g in sub.grades})
print(json.dumps(out))
'''

def check(lesson, work):
    course = Path(work) / 'course'
    run(PY, '-c', 'import sys; from scratchnet.practice import nbgrader_course as n; n(sys.argv[1], sys.argv[2], only=[sys.argv[3]])',
        course, ROOT / 'nbs', lesson)
    env = {**os.environ, 'IN_TEST': '1', 'PATH': f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
    env.pop('PYTHONPATH', None)          # the kernel must use the venv's scratchnet, nothing else
    run(BIN / 'nbgrader', 'generate_assignment', lesson, '--force', cwd=course, env=env)
    for student, src in (('solutions', course / 'source'), ('blank', course / 'release')):
        dest = course / 'submitted' / student / lesson
        dest.mkdir(parents=True)
        shutil.copy(src / lesson / f"{lesson}.ipynb", dest / f"{lesson}.ipynb")
    run(BIN / 'nbgrader', 'autograde', lesson, '--force', cwd=course, env=env)
    out = subprocess.run([str(PY), '-c', GRADES, lesson], cwd=course, env=env, check=True, capture_output=True, text=True).stdout
    res = json.loads(out.strip().splitlines()[-1])
    sol, blank = res['solutions'], res['blank']
    print(f"{lesson}: solutions {sol['score']:g}/{sol['max_score']:g}, blank {blank['score']:g}/{blank['max_score']:g}")
    checks = {k: v for k, v in sol['grades'].items() if k.startswith('check-')}
    ok = bool(checks) and sol['score'] == sol['max_score'] == len(checks) and all(v == 1 for v in checks.values())
    ok &= all(blank['grades'][k] == 0 for k in checks) and blank['score'] == 0
    if not ok: print(f"FAIL: {lesson}: per exercise, solutions {sol['grades']}, blank {blank['grades']}")
    return ok

def main(lessons):
    setup()
    with tempfile.TemporaryDirectory() as work:
        results = [check(lesson, Path(work) / lesson) for lesson in lessons or ['00_matmul']]
    print("nbgrader round trip: " + ('ok' if all(results) else 'FAILED'))
    return 0 if all(results) else 1

if __name__ == '__main__': sys.exit(main(sys.argv[1:]))
