#!/usr/bin/env python3
"""`scratchnet-grade` on every notebook, as CI runs it for practice mode (#14); a few minutes on two cores.

    python3 tests/teach/check_grade.py

- on the blank exercise notebooks (`exercises/*.ipynb`): every exercise unsolved, 0 errors, exit status 1;
- on the lessons (`nbs/*.ipynb`, graded as the solutions): the same number of exercises, every one solved, exit status 0.

It runs the grader the way its console script does (`sys.exit(grade_main())`), with this checkout first on PYTHONPATH.
"""
import os, subprocess, sys, tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
from scratchnet.practice import find_exercises, _lessons, _read

def grade(pattern):
    with tempfile.TemporaryDirectory() as d:
        script = Path(d) / 'scratchnet-grade'
        script.write_text("import sys\nfrom scratchnet.practice import grade_main\nsys.exit(grade_main())\n")
        env = {**os.environ, 'PYTHONPATH': os.pathsep.join(p for p in [str(ROOT), os.environ.get('PYTHONPATH')] if p)}
        paths = sorted(str(p.relative_to(ROOT)) for p in ROOT.glob(pattern))
        p = subprocess.run([sys.executable, str(script), *paths], cwd=ROOT, env=env, capture_output=True, text=True)
    print(p.stdout, end='', flush=True)
    return p.returncode, p.stdout.strip().splitlines()[-1]

def main():
    n = sum(len(find_exercises(_read(p))) for p in _lessons(ROOT / 'nbs'))
    rc_ex, last_ex = grade('exercises/*.ipynb')
    rc_nbs, last_nbs = grade('nbs/*.ipynb')
    ok = (last_ex == f"exercises: 0 solved, {n} unsolved, 0 errors" and rc_ex == 1
          and last_nbs == f"exercises: {n} solved, 0 unsolved, 0 errors" and rc_nbs == 0)
    print(f"scratchnet-grade: {n} exercises; blank: {last_ex!r} (exit {rc_ex}); lessons: {last_nbs!r} (exit {rc_nbs}): "
          + ('ok' if ok else 'FAILED'))
    return 0 if ok else 1

if __name__ == '__main__': sys.exit(main())
