"""Helpers for the end-to-end test: a throw-away JupyterLab server, and Chromium driven by Playwright.

Nothing here downloads a browser: Playwright drives the system's Chromium (Debian's `chromium` package), which
`find_chromium` installs with apt-get when it is missing and we are allowed to (root). `playwright install` is never run.
"""
import json, os, secrets, shutil, signal, socket, subprocess, sys, time, urllib.error, urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get('SCRATCHNET_CHROMIUM', '/usr/bin/chromium')
# The notebooks' committed outputs must not depend on the CPU. So the kernels of this run use torch's kernels for a plain
# x86-64 CPU ('default': no AVX2, no AVX-512), whatever this machine has: a CPU-dependent print then fails the
# comparison with the committed outputs on the developer's own machine (`dev.py test`), not on a learner's.
CPU_CAPABILITY = os.environ.get('SCRATCHNET_E2E_CPU_CAPABILITY', 'default')
CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-background-networking',
                 '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-default-apps']

def find_chromium(install=True, timeout=900):
    "Path of a Chromium binary, installing Debian's `chromium` with apt-get if needed; `(None, reason)` when impossible."
    if Path(CHROMIUM).exists(): return CHROMIUM, ''
    if not install: return None, f"{CHROMIUM} does not exist and installing it was not allowed"
    if not shutil.which('apt-get'): return None, f"{CHROMIUM} is missing and this system has no apt-get to install Debian's chromium"
    if hasattr(os, 'geteuid') and os.geteuid() != 0:
        return None, f"{CHROMIUM} is missing and only root can `apt-get install chromium` (run it, or set SCRATCHNET_CHROMIUM)"
    env = {**os.environ, 'DEBIAN_FRONTEND': 'noninteractive'}
    log = []
    for cmd in (['apt-get', 'update', '-qq'], ['apt-get', 'install', '-y', '-qq', 'chromium']):
        print('+', ' '.join(cmd), flush=True)
        try: r = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired: return None, f"`{' '.join(cmd)}` took more than {timeout} s"
        log.append(f"$ {' '.join(cmd)}: exit status {r.returncode}\n{r.stdout[-2000:]}{r.stderr[-2000:]}")
    if Path(CHROMIUM).exists(): return CHROMIUM, ''
    return None, "apt-get could not install chromium:\n" + '\n'.join(log)

def free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0)); return s.getsockname()[1]

# JupyterLab user settings for the test run: no autosave (the test saves explicitly), every cell attached to the DOM
# (so outputs far down the notebook can be inspected), and nothing that phones home.
LAB_SETTINGS = {
    '@jupyterlab/docmanager-extension/plugin': {'autosave': False},
    '@jupyterlab/notebook-extension/tracker': {'windowingMode': 'none'},
    '@jupyterlab/apputils-extension/notification': {'fetchNews': 'false', 'checkForUpdates': False, 'doNotDisturbMode': True},
    '@jupyterlab/extensionmanager-extension/plugin': {'enabled': False},
}

class LabServer:
    "A JupyterLab server on 127.0.0.1 with a random token, serving a private copy of the project, with its own config dirs."
    def __init__(self, workdir, log_path, start_timeout=120):
        self.work, self.log_path, self.start_timeout = Path(workdir), Path(log_path), start_timeout
        self.proc = self.port = None
        self.token = secrets.token_hex(16)

    def _prepare(self):
        # A copy, so that nothing the browser does (saving, the notebooks' own final `nbdev_export()`) touches the repo.
        proj = self.work / 'project'
        shutil.copytree(ROOT / 'nbs', proj / 'nbs', ignore=shutil.ignore_patterns('.*', '_*'))
        shutil.copytree(ROOT / 'scratchnet', proj / 'scratchnet', ignore=shutil.ignore_patterns('__pycache__'))
        shutil.copy(ROOT / 'settings.ini', proj)
        if (ROOT / 'exercises').is_dir():     # the blank exercise notebooks run too, where the README says they are
            shutil.copytree(ROOT / 'exercises', proj / 'exercises', ignore=shutil.ignore_patterns('.*', '_*'))
        for name, value in LAB_SETTINGS.items():
            ext, plugin = name.rsplit('/', 1)
            f = self.work / 'lab-settings' / ext / f'{plugin}.jupyterlab-settings'
            f.parent.mkdir(parents=True, exist_ok=True); f.write_text(json.dumps(value))
        return proj                           # the lab is rooted at the project, as `python3 dev.py lab` roots it

    def start(self):
        self.root = self._prepare()
        env = {k: v for k, v in os.environ.items() if k not in ('IN_TEST', 'PYTHONWARNINGS', 'JUPYTER_TOKEN')}
        env.update(JUPYTER_CONFIG_DIR=str(self.work / 'config'), JUPYTER_RUNTIME_DIR=str(self.work / 'runtime'),
                   JUPYTER_DATA_DIR=str(self.work / 'data'), IPYTHONDIR=str(self.work / 'ipython'),
                   MPLCONFIGDIR=str(self.work / 'mpl'), PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
                   ATEN_CPU_CAPABILITY=CPU_CAPABILITY)   # the kernels run torch's code for another CPU than the one that wrote the outputs
        root = ['--allow-root'] if hasattr(os, 'geteuid') and os.geteuid() == 0 else []
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self._log = open(self.log_path, 'w')
        for attempt in range(3):                    # a free port can be taken between finding and binding it
            self.port = free_port()
            cmd = [sys.executable, '-m', 'jupyterlab', '--no-browser', '--ip=127.0.0.1', f'--port={self.port}',
                   '--ServerApp.port_retries=0', f'--IdentityProvider.token={self.token}',
                   f'--ServerApp.root_dir={self.root}', f"--LabApp.user_settings_dir={self.work / 'lab-settings'}",
                   f"--LabApp.workspaces_dir={self.work / 'workspaces'}", *root]
            self.proc = subprocess.Popen(cmd, cwd=self.root, env=env, stdout=self._log, stderr=subprocess.STDOUT,
                                         stdin=subprocess.DEVNULL, start_new_session=True)
            if self._wait_ready(): return self
            self.stop()
        raise RuntimeError(f"JupyterLab did not start; see {self.log_path}:\n{self.log_path.read_text()[-3000:]}")

    def _wait_ready(self):
        deadline = time.monotonic() + self.start_timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None: return False
            try:
                self.api('GET', 'status'); return True
            except (urllib.error.URLError, ConnectionError, OSError): time.sleep(0.5)
        return False

    @property
    def url(self): return f'http://127.0.0.1:{self.port}'

    def api(self, method, path, timeout=30):
        req = urllib.request.Request(f'{self.url}/api/{path}', method=method, headers={'Authorization': f'token {self.token}'})
        with urllib.request.urlopen(req, timeout=timeout) as r:
            body = r.read()
            return json.loads(body) if body else None

    def shutdown_kernels(self):
        "Shut down every session's kernel, so notebooks do not compete for the CPU."
        for s in self.api('GET', 'sessions'): self.api('DELETE', f"sessions/{s['id']}")

    def stop(self):
        "Stop the server (and the kernels it started) by its own PID and process group."
        if self.proc is None: return
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try: self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired: pass
        try: os.killpg(self.proc.pid, signal.SIGKILL)   # its process group: kernels left behind, if any
        except (ProcessLookupError, PermissionError): pass
        try: self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired: pass
        self.proc = None
