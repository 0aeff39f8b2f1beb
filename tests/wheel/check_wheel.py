#!/usr/bin/env python3
"""The package as users get it: build the sdist and wheel, install the wheel into a fresh venv, use it from outside.

    python tests/wheel/check_wheel.py          # needs `build` (a dev requirement); `python3 dev.py wheel` runs it

1. `python -m build` builds the sdist, then the wheel from that sdist (so both must be complete);
2. a fresh venv gets `torch==2.13.0` ($SCRATCHNET_TORCH) first, so nothing pulls another build, then the wheel with
   its declared dependencies only (no nbdev, no jupyter): a dependency missing from settings.ini fails here;
3. from a temporary folder outside the repository, smoke.py imports every module (a file missing from the wheel
   fails) and calls one public function of each;
4. the `scratchnet-bench --quick` console script runs, and its table is printed.
Everything happens in a temporary folder that is removed afterwards (`--keep` keeps it). Exit status 0 means all passed.
"""
import json, os, shutil, subprocess, sys, tempfile, time, venv, zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TORCH = os.environ.get('SCRATCHNET_TORCH', 'torch==2.13.0')

def run(*args, timeout=900, **kw):
    print('+', ' '.join(map(str, args)), flush=True)
    return subprocess.run([str(a) for a in args], check=True, timeout=timeout, **kw)

def _dist_name():
    import configparser
    cfg = configparser.ConfigParser(delimiters=['='])
    cfg.read(ROOT / 'settings.ini', encoding='utf-8')
    return cfg['DEFAULT']['lib_name']

# importlib.metadata finds the distribution by its own name, it provides the `scratchnet` package, and the versions agree
METADATA_CHECK = """
import sys, importlib.metadata as md, scratchnet
d = md.distribution(sys.argv[1])
top = {f.parts[0] for f in d.files if f.suffix == '.py'}
assert 'scratchnet' in top, f"{sys.argv[1]} does not provide scratchnet: {top}"
assert md.packages_distributions()['scratchnet'] == [sys.argv[1]], md.packages_distributions()['scratchnet']
assert scratchnet.__version__ == d.version, (scratchnet.__version__, d.version)
print(f"ok   importlib.metadata: {sys.argv[1]} {d.version} provides scratchnet {scratchnet.__version__}")
"""

def build(out):
    # No --sdist/--wheel flags: build then makes the sdist first and the wheel from it, which checks the sdist too.
    run(sys.executable, '-m', 'build', '--quiet', '--outdir', out, ROOT, cwd=Path(out).parent)
    wheels, sdists = sorted(Path(out).glob('*.whl')), sorted(Path(out).glob('*.tar.gz'))
    if len(wheels) != 1 or len(sdists) != 1: sys.exit(f"FAIL: expected one wheel and one sdist in {out}, got {wheels + sdists}")
    return wheels[0], sdists[0]

def check_wheel_contents(wheel):
    "Every module of scratchnet/ is in the wheel, and the console script is declared."
    names = set(zipfile.ZipFile(wheel).namelist())
    missing = [f'scratchnet/{p.name}' for p in (ROOT / 'scratchnet').glob('*.py') if f'scratchnet/{p.name}' not in names]
    if missing: sys.exit(f"FAIL: the wheel lacks {missing}")
    eps = next((n for n in names if n.endswith('.dist-info/entry_points.txt')), None)
    if eps is None or 'scratchnet-bench' not in zipfile.ZipFile(wheel).read(eps).decode():
        sys.exit("FAIL: the wheel declares no scratchnet-bench console script (console_scripts in settings.ini)")
    print(f"ok   {wheel.name}: {sum(n.startswith('scratchnet/') for n in names)} package files, scratchnet-bench declared")

def main(argv):
    keep = '--keep' in argv
    tmp = Path(tempfile.mkdtemp(prefix='scratchnet-wheel-'))
    t0 = time.monotonic()
    try:
        wheel, sdist = build(tmp / 'dist')
        print(f"built {sdist.name} and {wheel.name}")
        check_wheel_contents(wheel)
        env_dir = tmp / 'venv'
        venv.create(env_dir, with_pip=True, clear=True)
        py = env_dir / ('Scripts' if os.name == 'nt' else 'bin') / 'python'
        pip = [py, '-m', 'pip', 'install', '-q', '--disable-pip-version-check']
        run(*pip, TORCH)
        dist = _dist_name()                                   # by its documented name, found only in our dist/ folder
        run(*pip, '--find-links', wheel.parent, f"{dist}=={wheel.name.split('-')[1]}")
        work = tmp / 'elsewhere'                              # outside the repository: no source tree to import from
        work.mkdir()
        shutil.copy(Path(__file__).with_name('smoke.py'), work)
        env = {k: v for k, v in os.environ.items() if k not in ('PYTHONPATH', 'VIRTUAL_ENV', 'IN_TEST')}
        env['MPLBACKEND'] = 'Agg'
        modules = sorted(p.stem for p in (ROOT / 'scratchnet').glob('*.py') if p.stem != '__init__')
        run(py, '-I', 'smoke.py', *modules, cwd=work, env=env)
        run(py, '-I', '-c', METADATA_CHECK, dist, cwd=work, env=env)
        bench = py.parent / 'scratchnet-bench'
        run(bench, '--quick', '--json', work / 'bench.json', cwd=work, env=env)
        report = json.loads((work / 'bench.json').read_text(encoding='utf-8'))
        if not (report['peak'] and report['ladder'] and report['comparisons']):
            sys.exit("FAIL: scratchnet-bench --quick left sections empty")
        print(f"wheel check passed in {time.monotonic() - t0:.0f} s: the wheel installs into a fresh venv and works from outside the repository")
        return 0
    except subprocess.CalledProcessError as e:
        print(f"FAIL: {' '.join(map(str, e.cmd))} exited with status {e.returncode}")
        return 1
    except subprocess.TimeoutExpired as e:
        print(f"FAIL: {' '.join(map(str, e.cmd))} ran longer than {e.timeout:.0f} s")
        return 1
    finally:
        if keep: print(f"kept {tmp}")
        else: shutil.rmtree(tmp, ignore_errors=True)

if __name__ == '__main__': sys.exit(main(sys.argv[1:]))
