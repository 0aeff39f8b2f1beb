#!/usr/bin/env python3
"""Set up and check scratchnet with nothing installed but Python.

    python3 dev.py lab          # create .venv, install everything, open JupyterLab at the repository (nbs/ and exercises/)
    python3 dev.py test         # create .venv, install everything, run the whole test suite (exactly what CI runs)
    python3 dev.py test --fast  # the same without the two slow real-client checks below (a few minutes)
    python3 dev.py test --busy  # (with or without --fast) the same while busy processes keep every CPU core busy,
                                # as on a shared machine: the suite must pass there too
    python3 dev.py setup        # only create/update .venv
    python3 dev.py outputs [NB] # run notebooks (default: all) top to bottom and save their outputs, cleaned, for commit
    python3 dev.py docs         # build the course website into _docs/ (open _docs/index.html), in its own .docs-venv
    python3 dev.py docs --check # ... then open every page in Chromium (tests/site): what `test` runs as its `site` step

The whole suite: nbdev_clean and nbdev_export leave no diff, README.md is in sync with nbs/index.ipynb, pytest on
tests/, nbdev_test on every notebook, the website built (`docs`) and opened page by page in Chromium (`docs --check`;
--fast only builds it), then the two real-client checks, which also run on their own:

    python3 dev.py e2e     # every notebook run in JupyterLab in Chromium (tests/e2e); screenshots in artifacts/e2e
    python3 dev.py wheel   # build the wheel, install it in a fresh venv, use it from outside the repo (tests/wheel)

Environment: SCRATCHNET_VENV (default .venv) picks the virtual environment, SCRATCHNET_TORCH
(default torch==2.13.0) the PyTorch requirement that is installed *before* anything else, so that
no other package can pull in a different (possibly multi-GB CUDA) build. SCRATCHNET_DOCS_VENV (default .docs-venv)
is the website's own environment: Jupyter Book (settings.ini's docs_requirements) and nothing of the course, so that its
dependencies never touch the pinned nbdev/execnb test environment.
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

DOCS_VENV = Path(os.environ.get('SCRATCHNET_DOCS_VENV', ROOT / '.docs-venv')).resolve()
DOCS_PY = DOCS_VENV / ('Scripts' if os.name == 'nt' else 'bin') / 'python'

def _settings():
    "settings.ini's values, read by the same stdlib-only helper the Colab cells use (tools/colab_cell.py)."
    sys.path.insert(0, str(ROOT / 'tools'))
    from colab_cell import settings
    return settings()

def docs_setup():
    "Create the website's venv and install settings.ini's docs_requirements; skipped when they did not change."
    if not DOCS_PY.exists():
        print(f"creating virtual environment {DOCS_VENV}", flush=True)
        venv.create(DOCS_VENV, with_pip=True)
        (DOCS_VENV / '.gitignore').write_text('*\n')      # as Python 3.13's venv does: git never sees the environment
    reqs = _settings()['docs_requirements'].split()
    stamp = DOCS_VENV / 'scratchnet-docs.stamp'
    key = hashlib.sha256(' '.join(reqs).encode()).hexdigest()
    if stamp.exists() and stamp.read_text() == key: return
    run(DOCS_PY, '-m', 'pip', 'install', '-q', '--disable-pip-version-check', *reqs)
    stamp.write_text(key)

def docs():
    "Build the website into settings.ini's doc_path (tools/build_site.py, with the docs venv). True when it built."
    docs_setup()
    return run(DOCS_PY, 'tools/build_site.py', check=False).returncode == 0

SITE_DIR = ROOT / 'tests' / 'site'

def run_site_check(browser=True):
    """Build the website, then (with `browser`) open every page in Chromium (tests/site); print the verdict. True when
    it passed. The build alone already fails on a link that leads nowhere or a docstring that does not parse."""
    t0 = time.time()
    if not docs():
        print(f"site (the course website): FAILED, the site did not build ({time.time() - t0:.0f} s)"); return False
    if not browser:
        print(f"site (the course website): built, not opened in Chromium without the full run ({time.time() - t0:.0f} s)"); return True
    artifacts = Path(os.environ.get('SCRATCHNET_SITE_ARTIFACTS', ROOT / 'artifacts' / 'site')).resolve()
    rc = run(PY, '-m', 'pytest', '-q', '-rs', '--tb=short', '-p', 'no:cacheprovider', SITE_DIR.relative_to(ROOT), check=False,
             env={**os.environ, 'SCRATCHNET_SITE_ARTIFACTS': str(artifacts)}).returncode
    skipped = artifacts / 'SKIPPED.txt'
    verdict = f"SKIPPED: {skipped.read_text().strip()}" if rc == 0 and skipped.exists() else 'passed' if rc == 0 else 'FAILED'
    print(f"site (the course website in Chromium): {verdict} ({time.time() - t0:.0f} s)")
    return rc == 0

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

NBDEV_TEST_TARGET = 120     # seconds for the whole nbdev_test run: row 7 of `scratchnet-bench`
NBDEV_TEST_TIMEOUT = 1200   # ... and the point where CI gives up on it

def _notebooks():
    return sorted(p for p in (ROOT / 'nbs').glob('*.ipynb') if not p.name.startswith(('_', '.')))

def run_notebook_tests():
    "Run `nbdev_test` on every notebook, with warnings turned into errors; return (passed, failed) counts."
    nbs = _notebooks()
    t0 = time.time()
    try:
        proc = run(BIN / 'nbdev_test', '--timing', '--n_workers', str(min(2, os.cpu_count() or 1)),
                   check=False, stderr=subprocess.PIPE, text=True, timeout=NBDEV_TEST_TIMEOUT,
                   env={**os.environ, 'PYTHONWARNINGS': 'error'})   # any warning in any notebook fails its test
    except subprocess.TimeoutExpired:
        print(f"FAIL: nbdev_test ran longer than {NBDEV_TEST_TIMEOUT} s and was stopped")
        return 0, len(nbs)
    sys.stderr.write(proc.stderr)
    failed = set()
    if proc.returncode != 0:
        tail = proc.stderr.split('nbdev Tests Failed On The Following Notebooks:')[-1]
        failed = {n.name for n in nbs if re.search(rf'\b{re.escape(n.name)}\b', tail)} or {n.name for n in nbs}
    secs = time.time() - t0
    print(f"nbdev_test wall time: {secs:.1f} s (target ≤ {NBDEV_TEST_TARGET} s: {'holds' if secs <= NBDEV_TEST_TARGET else 'MISSES'})")
    return len(nbs) - len(failed), len(failed)

E2E_DIR = ROOT / 'tests' / 'e2e'

def _e2e_artifacts(): return Path(os.environ.get('SCRATCHNET_E2E_ARTIFACTS', ROOT / 'artifacts' / 'e2e')).resolve()

def run_e2e():
    "Every notebook in JupyterLab in Chromium (tests/e2e); print where the screenshots are. True when it passed."
    artifacts = _e2e_artifacts()
    t0 = time.time()
    rc = run(PY, '-m', 'pytest', '-v', '-rs', '-p', 'no:cacheprovider', E2E_DIR.relative_to(ROOT), check=False,
             env={**os.environ, 'SCRATCHNET_E2E_ARTIFACTS': str(artifacts)}).returncode
    skipped = artifacts / 'SKIPPED.txt'
    verdict = f"SKIPPED: {skipped.read_text().strip()}" if rc == 0 and skipped.exists() else 'passed' if rc == 0 else 'FAILED'
    capability = os.environ.get('SCRATCHNET_E2E_CPU_CAPABILITY', 'default')
    print(f"e2e (JupyterLab in Chromium, kernels with ATEN_CPU_CAPABILITY={capability}): {verdict} ({time.time() - t0:.0f} s)")
    print(f"e2e artifacts (screenshots, executed notebooks, server log): {artifacts}")
    return rc == 0

def run_wheel_check():
    "Build the wheel and sdist, install into a fresh venv, use it from outside the repo (tests/wheel). True when it passed."
    return run(PY, 'tests/wheel/check_wheel.py', check=False).returncode == 0

def busy_cores(n=None):
    "Start `n` (default: one per CPU core) processes that each keep a core busy; return them, for `stop_busy`."
    n = n or os.cpu_count() or 1
    print(f"starting {n} busy processes: the tests run on a machine whose every core is taken", flush=True)
    return [subprocess.Popen([sys.executable, '-c', 'while True: pass'], stdin=subprocess.DEVNULL) for _ in range(n)]

def stop_busy(procs):
    for p in procs: p.kill()
    for p in procs: p.wait()

def test(e2e=False, wheel=False):
    t0 = time.time()
    results = {
        'nbdev_clean': _leaves_tree_unchanged('nbdev_clean', "the notebooks were not clean; commit the cleaned files"),
        'nbdev_export': _leaves_tree_unchanged('nbdev_export', "scratchnet/ was out of sync with the notebooks; commit the exported files"),
        'README': run(PY, 'tools/make_readme.py', '--check', check=False).returncode == 0,
    }
    own_steps = (E2E_DIR, SITE_DIR)   # the browser tests run in their own steps (run_e2e, run_site_check)
    fast_tests = [p for p in (ROOT / 'tests').rglob('test_*.py') if not any(d in p.parents for d in own_steps)] if (ROOT / 'tests').is_dir() else []
    if fast_tests:
        results['pytest'] = run(PY, '-m', 'pytest', '-q', '-p', 'no:cacheprovider', 'tests',
                                *(f'--ignore={d.relative_to(ROOT)}' for d in own_steps), check=False).returncode == 0
    passed, failed = run_notebook_tests()
    results['nbdev_test'] = failed == 0
    results['site'] = run_site_check(browser=e2e)   # --fast builds the site; the full run also opens every page
    if wheel:
        results['wheel'] = run_wheel_check()
        results['grade'] = run(PY, 'tests/teach/check_grade.py', check=False).returncode == 0
        results['nbgrader'] = run(PY, 'tests/teach/check_nbgrader.py', check=False).returncode == 0
    if e2e:
        results['e2e'] = run_e2e()
        results['committed outputs'] = run(PY, 'tools/nb_outputs.py', '--compare', _e2e_artifacts() / 'executed', check=False).returncode == 0
    print("checks: " + ', '.join(f"{k} {'ok' if v else 'FAILED'}" for k, v in results.items()) + f" ({time.time() - t0:.0f} s)")
    print(f"notebooks: {passed} passed, {failed} failed")
    return 0 if all(results.values()) else 1

def lab():
    if (ROOT / '.git').exists(): run(BIN / 'nbdev_install_hooks', check=False)
    extra = ['--allow-root'] if hasattr(os, 'geteuid') and os.geteuid() == 0 else []
    os.chdir(ROOT)
    print("JupyterLab opens at the repository: the lessons are in nbs/, their practice versions in exercises/", flush=True)
    os.execv(str(BIN / 'jupyter'), [str(BIN / 'jupyter'), 'lab', f'--ServerApp.root_dir={ROOT}', *extra, *sys.argv[2:]])

# --- practice mode (#14): the exercise notebooks and the nbgrader course --------------------------------------------
#     python3 dev.py exercises          # regenerate exercises/ from the lessons in nbs/ (scratchnet.practice.write_exercises)
#     python3 dev.py nbgrader DIR       # write an nbgrader course into DIR (scratchnet.practice.nbgrader_course)
def practice(cmd, opts):
    "Thin wrappers around scratchnet.practice, run with the project's venv (set up first only if it does not exist yet)."
    if cmd == 'nbgrader' and len(opts) != 1: print("usage: python3 dev.py nbgrader DIR"); return 2
    if cmd == 'exercises' and opts: print("usage: python3 dev.py exercises"); return 2
    if not PY.exists(): setup()
    code = ("from scratchnet.practice import write_exercises as w; c = w('nbs', 'exercises'); "
            "print('\\n'.join(f'wrote {p}' for p in c) or 'exercises/ is up to date')" if cmd == 'exercises' else
            "import sys; from scratchnet.practice import nbgrader_course as n; "
            "print('\\n'.join(f'wrote {p}' for p in n(sys.argv[1], 'nbs')))")
    return run(PY, '-c', code, *opts, check=False).returncode
# --- end of practice mode --------------------------------------------------------------------------------------------

MIN_PYTHON = (3, 10)   # settings.ini's min_python: the oldest Python that torch==2.13.0 has wheels for

def main():
    if sys.version_info < MIN_PYTHON:
        print(f"scratchnet needs Python {'.'.join(map(str, MIN_PYTHON))} or newer (torch 2.13.0 has no wheels for "
              f"Python {sys.version_info.major}.{sys.version_info.minor}); run this with a newer python3."); return 2
    cmd, opts = (sys.argv[1] if len(sys.argv) > 1 else ''), sys.argv[2:]
    if cmd in ('exercises', 'nbgrader'): return practice(cmd, opts)
    if cmd == 'docs' and set(opts) <= {'--check'}:     # the website needs only its own venv (and .venv for --check)
        if opts: setup(); return 0 if run_site_check() else 1
        return 0 if docs() else 1
    bad_opts = set(opts) - {'--fast', '--busy'} if cmd == 'test' else opts if cmd != 'lab' else ()
    if cmd == 'outputs': bad_opts = [o for o in opts if not o.endswith('.ipynb')]
    if cmd not in ('setup', 'test', 'lab', 'e2e', 'wheel', 'outputs') or bad_opts:
        print(__doc__); return 2
    setup()
    if cmd == 'test':
        busy = busy_cores() if '--busy' in opts else []
        try: return test(e2e='--fast' not in opts, wheel='--fast' not in opts)
        finally: stop_busy(busy)
    if cmd == 'e2e': return 0 if run_e2e() else 1
    if cmd == 'wheel': return 0 if run_wheel_check() else 1
    if cmd == 'outputs': return run(PY, 'tools/nb_outputs.py', *opts, check=False).returncode
    if cmd == 'lab': lab()
    return 0

if __name__ == '__main__': sys.exit(main())
