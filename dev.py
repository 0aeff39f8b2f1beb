#!/usr/bin/env python3
"""Set up and check scratchnet with nothing installed but Python.

    python3 dev.py lab     # create .venv, install everything, open the notebooks in JupyterLab
    python3 dev.py test    # create .venv, install everything, run every check that CI runs
    python3 dev.py setup   # only create/update .venv

Environment: SCRATCHNET_VENV (default .venv) picks the virtual environment, SCRATCHNET_TORCH
(default torch==2.13.0) the PyTorch requirement that is installed *before* anything else, so that
no other package can pull in a different (possibly multi-GB CUDA) build.
"""
import hashlib, os, re, subprocess, sys, time, venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = Path(os.environ.get('SCRATCHNET_VENV', ROOT / '.venv')).resolve()
TORCH = os.environ.get('SCRATCHNET_TORCH', 'torch==2.13.0')
BIN = VENV / ('Scripts' if os.name == 'nt' else 'bin')
PY = BIN / 'python'

def run(*args, check=True, **kw):
    print('+', ' '.join(str(a) for a in args), flush=True)
    return subprocess.run([str(a) for a in args], cwd=ROOT, check=check, **kw)

def setup():
    "Create the venv and install torch first, then scratchnet[dev]; skipped when nothing relevant changed."
    if not PY.exists():
        print(f"creating virtual environment {VENV}", flush=True)
        venv.create(VENV, with_pip=True)
    stamp = VENV / 'scratchnet-setup.stamp'
    key = hashlib.sha256(b''.join((ROOT / f).read_bytes() for f in ('settings.ini', 'setup.py')) + TORCH.encode()).hexdigest()
    if stamp.exists() and stamp.read_text() == key: return
    pip = [PY, '-m', 'pip', 'install', '-q', '--disable-pip-version-check']
    run(*pip, '--upgrade', 'pip')
    run(*pip, TORCH)
    run(*pip, '-e', '.[dev]')
    stamp.write_text(key)

def _snapshot():
    "Hash of every notebook and package file, to see whether a tool changed any of them."
    files = sorted([*ROOT.glob('nbs/*.ipynb'), *ROOT.glob('scratchnet/*.py')])
    return {f.relative_to(ROOT): hashlib.sha256(f.read_bytes()).hexdigest() for f in files}

def _leaves_tree_unchanged(tool, advice):
    before = _snapshot()
    ok = run(BIN / tool, check=False).returncode == 0
    after = _snapshot()
    changed = sorted(str(f) for f in before.keys() | after.keys() if before.get(f) != after.get(f))
    if ok and not changed:
        print(f"ok: {tool} leaves the tree unchanged"); return True
    print(f"FAIL: {tool} " + (f"changed {', '.join(changed)}: {advice}" if changed else "exited with an error"))
    return False

def _notebooks():
    return sorted(p for p in (ROOT / 'nbs').glob('*.ipynb') if not p.name.startswith(('_', '.')))

def run_notebook_tests():
    "Run `nbdev_test` on every notebook, with warnings turned into errors; return (passed, failed) counts."
    nbs = _notebooks()
    t0 = time.time()
    proc = run(BIN / 'nbdev_test', '--timing', '--n_workers', str(min(2, os.cpu_count() or 1)),
               check=False, stderr=subprocess.PIPE, text=True,
               env={**os.environ, 'PYTHONWARNINGS': 'error'})   # any warning in any notebook fails its test
    sys.stderr.write(proc.stderr)
    failed = set()
    if proc.returncode != 0:
        tail = proc.stderr.split('nbdev Tests Failed On The Following Notebooks:')[-1]
        failed = {n.name for n in nbs if re.search(rf'\b{re.escape(n.name)}\b', tail)} or {n.name for n in nbs}
    print(f"nbdev_test wall time: {time.time() - t0:.1f} s")
    return len(nbs) - len(failed), len(failed)

def test():
    checks = [
        _leaves_tree_unchanged('nbdev_clean', "the notebooks were not clean; commit the cleaned files"),
        _leaves_tree_unchanged('nbdev_export', "scratchnet/ was out of sync with the notebooks; commit the exported files"),
        run(PY, 'tools/make_readme.py', '--check', check=False).returncode == 0,
    ]
    pytest_ok = True
    if (ROOT / 'tests').is_dir() and any((ROOT / 'tests').rglob('test_*.py')):
        rc = run(PY, '-m', 'pytest', '-q', '-p', 'no:cacheprovider', 'tests', check=False).returncode
        pytest_ok = rc == 0
    passed, failed = run_notebook_tests()
    ok = all(checks) and pytest_ok and failed == 0
    print(f"notebooks: {passed} passed, {failed} failed")
    return 0 if ok else 1

def lab():
    if (ROOT / '.git').exists(): run(BIN / 'nbdev_install_hooks', check=False)
    extra = ['--allow-root'] if hasattr(os, 'geteuid') and os.geteuid() == 0 else []
    os.chdir(ROOT)
    os.execv(str(BIN / 'jupyter'), [str(BIN / 'jupyter'), 'lab', 'nbs', *extra, *sys.argv[2:]])

def main():
    cmd = sys.argv[1] if len(sys.argv) > 1 else ''
    if cmd not in ('setup', 'test', 'lab'):
        print(__doc__); return 2
    setup()
    if cmd == 'test': return test()
    if cmd == 'lab': lab()
    return 0

if __name__ == '__main__': sys.exit(main())
