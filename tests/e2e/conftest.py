"""Fixtures of the JupyterLab test: where its artifacts go, a throw-away JupyterLab server, and one browser context.

The browser is pytest-playwright's (tests/conftest.py points it at the system's Chromium). The server is `jupyter lab`
itself, started on a port the system picks (`--ServerApp.port=0`), with its own config, data and runtime folders; it
announces its address and token in the runtime folder, where jupyter_server's `list_running_servers` reads them.
"""
import json, os, shutil, signal, subprocess, sys, tempfile, time, urllib.request
from pathlib import Path
import pytest

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = Path(os.environ.get('SCRATCHNET_E2E_ARTIFACTS', ROOT / 'artifacts' / 'e2e')).resolve()
# The notebooks' committed outputs must not depend on the CPU. So the kernels of this run use torch's kernels for a plain
# x86-64 CPU ('default': no AVX2, no AVX-512), whatever this machine has: a CPU-dependent print then fails the
# comparison with the committed outputs on the developer's own machine (`dev.py test`), not on a learner's.
CPU_CAPABILITY = os.environ.get('SCRATCHNET_E2E_CPU_CAPABILITY', 'default')
START_TIMEOUT = 120                                                        # seconds for the server to start
TOTAL_TIMEOUT = float(os.environ.get('SCRATCHNET_E2E_TOTAL_TIMEOUT', 2400))   # seconds for every notebook together
# JupyterLab user settings for the test run: no autosave (the test saves explicitly), every cell attached to the DOM
# (so outputs far down the notebook can be inspected), and nothing that phones home.
LAB_SETTINGS = {
    '@jupyterlab/docmanager-extension/plugin': {'autosave': False},
    '@jupyterlab/notebook-extension/tracker': {'windowingMode': 'none'},
    '@jupyterlab/apputils-extension/notification': {'fetchNews': 'false', 'checkForUpdates': False, 'doNotDisturbMode': True},
    '@jupyterlab/extensionmanager-extension/plugin': {'enabled': False},
}

@pytest.fixture(scope='session')
def artifacts():
    if ARTIFACTS.exists(): shutil.rmtree(ARTIFACTS)
    (ARTIFACTS / 'executed').mkdir(parents=True)
    return ARTIFACTS

class Lab:
    "A running JupyterLab: its address, token and root folder, and the two REST calls the test makes."
    def __init__(self, info, root): self.url, self.token, self.root = info['url'].rstrip('/'), info['token'], root

    def api(self, method, path, timeout=30):
        req = urllib.request.Request(f'{self.url}/api/{path}', method=method, headers={'Authorization': f'token {self.token}'})
        with urllib.request.urlopen(req, timeout=timeout) as r:
            body = r.read()
            return json.loads(body) if body else None

    def shutdown_kernels(self):
        "Shut down every session's kernel, so notebooks do not compete for the CPU."
        for s in self.api('GET', 'sessions'): self.api('DELETE', f"sessions/{s['id']}")

def _project(work):
    """A copy of the project for the lab to serve, rooted as `python3 dev.py lab` roots it (nbs/ and exercises/), so that
    nothing the browser does (saving, the notebooks' own final `nbdev_export()`) touches the repository; and the settings."""
    proj = work / 'project'
    shutil.copytree(ROOT / 'nbs', proj / 'nbs', ignore=shutil.ignore_patterns('.*', '_*'))
    shutil.copytree(ROOT / 'scratchnet', proj / 'scratchnet', ignore=shutil.ignore_patterns('__pycache__'))
    shutil.copy(ROOT / 'settings.ini', proj)
    if (ROOT / 'exercises').is_dir():
        shutil.copytree(ROOT / 'exercises', proj / 'exercises', ignore=shutil.ignore_patterns('.*', '_*'))
    for name, value in LAB_SETTINGS.items():
        ext, plugin = name.rsplit('/', 1)
        f = work / 'lab-settings' / ext / f'{plugin}.jupyterlab-settings'
        f.parent.mkdir(parents=True, exist_ok=True); f.write_text(json.dumps(value))
    return proj

@pytest.fixture(scope='session')
def lab(artifacts):
    "JupyterLab serving a copy of the project; `lab.summary` (per-notebook timings) is written to summary.json at the end."
    from jupyter_server.serverapp import list_running_servers
    t0, work = time.monotonic(), Path(tempfile.mkdtemp(prefix='scratchnet-e2e-'))
    root = _project(work)
    env = {k: v for k, v in os.environ.items() if k not in ('IN_TEST', 'PYTHONWARNINGS', 'JUPYTER_TOKEN')}
    env.update(JUPYTER_CONFIG_DIR=str(work / 'config'), JUPYTER_RUNTIME_DIR=str(work / 'runtime'), JUPYTER_DATA_DIR=str(work / 'data'),
               IPYTHONDIR=str(work / 'ipython'), MPLCONFIGDIR=str(work / 'mpl'), ATEN_CPU_CAPABILITY=CPU_CAPABILITY,
               PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}")
    cmd = [sys.executable, '-m', 'jupyterlab', '--no-browser', '--ip=127.0.0.1', '--ServerApp.port=0', f'--ServerApp.root_dir={root}',
           f"--LabApp.user_settings_dir={work / 'lab-settings'}", f"--LabApp.workspaces_dir={work / 'workspaces'}",
           *(['--allow-root'] if hasattr(os, 'geteuid') and os.geteuid() == 0 else [])]
    log = open(artifacts / 'jupyter-server.log', 'w')
    proc = subprocess.Popen(cmd, cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
    server = None
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while server is None and proc.poll() is None and time.monotonic() < deadline:
            server = next((s for s in list_running_servers(work / 'runtime') if s['pid'] == proc.pid), None)
            time.sleep(0.3)
        if server is None:
            raise RuntimeError(f"JupyterLab did not start; its log:\n{(artifacts / 'jupyter-server.log').read_text()[-3000:]}")
        lab = Lab(server, root)
        lab.summary, lab.total_timeout, lab.deadline = {}, TOTAL_TIMEOUT, t0 + TOTAL_TIMEOUT
        yield lab
        (artifacts / 'summary.json').write_text(json.dumps({'total_seconds': round(time.monotonic() - t0, 1), 'notebooks': lab.summary}, indent=1))
    finally:
        if proc.poll() is None:
            proc.terminate()
            try: proc.wait(timeout=20)
            except subprocess.TimeoutExpired: pass
        try: os.killpg(proc.pid, signal.SIGKILL)          # its process group: kernels left behind, if any
        except (ProcessLookupError, PermissionError): pass
        proc.wait(timeout=10); log.close()
        shutil.rmtree(work, ignore_errors=True)

@pytest.fixture(scope='session')
def lab_context(browser, browser_context_args):
    "One browser context for every notebook (JupyterLab's scripts are fetched once), from pytest-playwright's `browser`."
    context = browser.new_context(**browser_context_args, viewport={'width': 1400, 'height': 1000})
    yield context
    context.close()
