"""Chromium for the two browser checks, tests/e2e (every notebook in JupyterLab) and tests/site (every page of the website).

The browser comes from pytest-playwright's fixtures (`browser`, `browser_context_args`): this file only points its launch
at the system's Chromium (Debian's `chromium` package, which `find_chromium` installs with apt-get when it is missing and
we are root). `playwright install` is never run. Without a Chromium the suite is skipped, and the reason is written to
the suite's SKIPPED.txt, which dev.py prints: a skip must never look like a pass. Each suite's own conftest.py says where
its artifacts go (the `artifacts` fixture).
"""
import os, shutil, subprocess
from pathlib import Path
import pytest

CHROMIUM = os.environ.get('SCRATCHNET_CHROMIUM', '/usr/bin/chromium')
CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-background-networking',
                 '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-default-apps']

def find_chromium(install=True, timeout=900):
    "Path of a Chromium binary, installing Debian's `chromium` with apt-get if needed; `(None, reason)` when impossible."
    if Path(CHROMIUM).exists(): return CHROMIUM, ''
    if not install: return None, f"{CHROMIUM} does not exist and installing it was not allowed"
    if not shutil.which('apt-get'): return None, f"{CHROMIUM} is missing and this system has no apt-get to install Debian's chromium"
    if hasattr(os, 'geteuid') and os.geteuid() != 0:
        return None, f"{CHROMIUM} is missing and only root can `apt-get install chromium` (run it, or set SCRATCHNET_CHROMIUM)"
    env, log = {**os.environ, 'DEBIAN_FRONTEND': 'noninteractive'}, []
    for cmd in (['apt-get', 'update', '-qq'], ['apt-get', 'install', '-y', '-qq', 'chromium']):
        print('+', ' '.join(cmd), flush=True)
        try: r = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired: return None, f"`{' '.join(cmd)}` took more than {timeout} s"
        log.append(f"$ {' '.join(cmd)}: exit status {r.returncode}\n{r.stdout[-2000:]}{r.stderr[-2000:]}")
    if Path(CHROMIUM).exists(): return CHROMIUM, ''
    return None, "apt-get could not install chromium:\n" + '\n'.join(log)

@pytest.fixture(scope='session')
def browser_type_launch_args(browser_type_launch_args, artifacts):
    "pytest-playwright's launch options, with the system's Chromium; skip (saying why in SKIPPED.txt) when there is none."
    chromium, why = find_chromium()
    if chromium is None:
        why = f"this browser check needs Chromium, which could not be installed: {why}"
        (artifacts / 'SKIPPED.txt').write_text(why + '\n')
        pytest.skip(why)
    (artifacts / 'SKIPPED.txt').unlink(missing_ok=True)
    return {**browser_type_launch_args, 'executable_path': chromium, 'args': CHROMIUM_ARGS}
