"""Every notebook, run in full the way a learner runs it: JupyterLab in Chromium, "Run All Cells", then checks.

For each notebook in nbs/ (index included: it has a code cell that readers run too), and each blank exercise notebook
in exercises/ (every exercise unsolved: the lesson must still run to its end), the test opens it in JupyterLab,
waits for the kernel (retrying a slow first start), clicks Run > Run All Cells, waits for the kernel to go idle,
saves, and asserts that every code cell ran and that no output is an error or a write to stderr (a warning). It also asserts that widgets rendered
(01, 03, 11) and answer when used (typing a shape, clicking ReLU, checking a quiz answer), that plots rendered as
images (02, 03, 08), and, in every notebook, that each widget and PNG output
the kernel sent is on the page. A screenshot of each notebook, the executed notebooks,
the server log and a timing summary land in artifacts/e2e/ (or $SCRATCHNET_E2E_ARTIFACTS).

Run it with `python3 dev.py e2e`; `.ci/run` does. The fixtures are in conftest.py: the server (`jupyter lab` on a port
the system picks) here, the browser (pytest-playwright's, on Debian's chromium, installed with apt-get when missing and
running as root) in tests/conftest.py; `playwright install` is never used.
The notebooks are not in IN_TEST mode here, so this also exercises the full-size cells that `nbdev_test` shrinks.
"""
import json, os, re, shutil, time
from pathlib import Path
import pytest

ROOT = Path(__file__).resolve().parents[2]
RUN_TIMEOUT = float(os.environ.get('SCRATCHNET_E2E_TIMEOUT', 600))   # seconds for one notebook's Run All
KERNEL_TIMEOUT, KERNEL_ATTEMPTS = 90, 3
NOTEBOOKS = (sorted(f'nbs/{p.name}' for p in (ROOT / 'nbs').glob('*.ipynb') if not p.name.startswith(('_', '.')))
             + sorted(f'exercises/{p.name}' for p in (ROOT / 'exercises').glob('*.ipynb')))   # blank: every exercise unsolved
# Paths from the lab's root, the repository, exactly as the README names them (`nbs/...`, `exercises/...`).
# What must be visible after Run All, keyed by the notebook's number (so a renamed notebook keeps its checks).
WIDGETS = {'01': 'scratchnet-broadcast-explorer', '03': 'scratchnet-init-explorer', '11': 'scratchnet-quiz'}
PLOTS = {'02', '03', '08'}
_IDLE = re.compile(r'^(?!No Kernel).+\|\s*Idle$')

def _num(nb): return nb.removeprefix('nbs/').split('_', 1)[0]     # 'exercises/01' for an exercise notebook: no widget or plot checks

def _kernel_idle(page, timeout):
    "Wait until the status bar names a kernel that is idle."
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        texts = page.eval_on_selector_all('.jp-StatusBar-TextItem', 'els => els.map(e => e.textContent.trim())')
        if any(_IDLE.match(t) for t in texts): return True
        dialog = page.locator('.jp-Dialog .jp-mod-accept')   # a "select kernel" dialog: take the default kernel
        if dialog.count(): dialog.first.click()
        time.sleep(0.5)
    return False

def _open(page, server, nb):
    "Open `nb` and wait for its kernel, retrying a slow first start; return the number of attempts used."
    for attempt in range(1, KERNEL_ATTEMPTS + 1):
        page.goto(f'{server.url}/lab/tree/{nb}?reset&token={server.token}', timeout=120_000)
        page.wait_for_selector('.jp-NotebookPanel .jp-Notebook', timeout=120_000)
        if _kernel_idle(page, KERNEL_TIMEOUT * attempt): return attempt
        server.shutdown_kernels()
    raise AssertionError(f"{nb}: the kernel did not become idle after {KERNEL_ATTEMPTS} attempts")

def _run_all(page, server, nb):
    "Run > Run All Cells from the menu bar, then wait until no cell is queued or running and the kernel is idle."
    page.get_by_role('menuitem', name='Run', exact=True).click()
    page.get_by_role('menuitem', name='Run All Cells', exact=True).click()
    deadline, prompts = min(server.deadline, time.monotonic() + RUN_TIMEOUT), []
    while time.monotonic() < deadline:
        time.sleep(1)
        prompts = page.eval_on_selector_all('.jp-Notebook .jp-CodeCell .jp-InputPrompt', 'els => els.map(e => e.textContent)')
        status = page.eval_on_selector('.jp-NotebookPanel .jp-Notebook-ExecutionIndicator', 'e => e.dataset.status')
        if status == 'idle' and not any('*' in p for p in prompts): return
    running = sum('*' in p for p in prompts)
    raise AssertionError(f"{nb}: Run All did not finish in time (at most {RUN_TIMEOUT:.0f} s per notebook, {server.total_timeout:.0f} s "
                         f"in all; {running} cells still queued or running)")

def _save(page, server, nb):
    "Save with the toolbar's save button and return the notebook as the browser wrote it to disk."
    path = server.root / nb
    before = path.stat().st_mtime_ns
    page.locator('.jp-NotebookPanel-toolbar [data-command="docmanager:save"]').first.click()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if path.stat().st_mtime_ns != before:
            try: return json.loads(path.read_text(encoding='utf-8'))
            except json.JSONDecodeError: pass       # caught it half-written
        time.sleep(0.3)
    raise AssertionError(f"{nb}: saving the notebook from the browser did not update the file within 60 s")

def _errors(saved):
    "Describe every error or stderr output, and every code cell that never ran (Run All stops after an error or a dead kernel)."
    problems = []
    for i, cell in enumerate(saved['cells']):
        if cell['cell_type'] != 'code' or not ''.join(cell['source']).strip(): continue
        for o in cell.get('outputs', []):
            if o['output_type'] == 'error':
                tb = re.sub(r'\x1b\[[0-9;]*m', '', '\n'.join(o.get('traceback', []))[-1500:])
                problems.append(f"cell {i}: {o['ename']}: {o['evalue']}\n{tb}")
            if o.get('name') == 'stderr':       # warnings land here: a fresh kernel must print none, full-size cells too
                problems.append(f"cell {i} wrote to stderr (a warning?): {''.join(o.get('text', ''))[:500]}")
        if cell.get('execution_count') is None: problems.append(f"cell {i} did not run")
    return problems

WIDGET_MIME = 'application/vnd.jupyter.widget-view+json'

def _unrendered(page, saved):
    "Every widget and PNG output that the kernel sent must be on the page: a widget view with content, an <img>."
    problems = []
    outs = [o.get('data', {}) for c in saved['cells'] for o in c.get('outputs', []) if o['output_type'] in ('display_data', 'execute_result')]
    for mime, sel, what in ((WIDGET_MIME, '.jp-OutputArea-output > .jupyter-widgets', 'widgets'),
                            ('image/png', '.jp-OutputArea-output[data-mime-type="image/png"] img', 'PNG images')):
        sent, shown = sum(mime in d for d in outs), page.locator(sel).count()
        if shown < sent: problems.append(f"{sent} {what} in the outputs, but only {shown} rendered on the page")
    return problems

def _wait_for(check, what, timeout=45):
    "Poll `check()` until it is truthy; fail with `what` after `timeout` seconds."
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check(): return
        time.sleep(0.3)
    raise AssertionError(f"widget did not respond within {timeout} s: {what}")

def _interact(page, n):
    "Use the notebook's widget as a learner would, and check that the kernel answers with a redrawn output."
    root = page.locator(f'.{WIDGETS[n]}').first
    root.scroll_into_view_if_needed()
    if n == '01':      # type a shape that clashes with (4,): the table must say so, and the picture must go away
        box = root.locator('.widget-text input').first
        box.fill('(2, 3)')
        _wait_for(lambda: 'cannot broadcast' in root.inner_text(), "typing (2, 3) into 'shape a' did not show the clash")
    elif n == '03':    # switch the activation to ReLU: the plot must be redrawn with a new title
        img = root.locator('img').first
        before = img.get_attribute('src')
        root.locator('button', has_text='ReLU').first.click()
        _wait_for(lambda: img.get_attribute('src') != before, "clicking ReLU did not redraw the plot")
    elif n == '11':    # answer question 13 wrongly and press Check: a red cross with its reason must appear
        root.locator('select').first.select_option(index=12)
        root.locator('.widget-text input').first.fill('banana')
        root.locator('button', has_text='Check').first.click()
        _wait_for(lambda: '✗ Question 13' in root.inner_text(), "Check on a wrong answer to Q13 showed no ✗ result")

def test_checked_notebooks_exist():
    "The widget and plot checks below must each match a notebook: a renamed or missing notebook fails here, loudly."
    present = {_num(nb) for nb in NOTEBOOKS}
    missing = sorted((WIDGETS.keys() | PLOTS) - present)
    assert not missing, f"no notebook numbered {missing} in nbs/, so its widget/plot check would never run"

@pytest.mark.parametrize('nb', NOTEBOOKS)
def test_notebook_runs_in_jupyterlab(lab_context, lab, artifacts, nb):
    server, page, t0, info = lab, lab_context.new_page(), time.monotonic(), {}
    lab.summary[nb] = info
    try:
        if t0 > server.deadline: raise AssertionError(f"{nb}: not run, the e2e time budget of {server.total_timeout:.0f} s is spent")
        info['kernel_attempts'] = _open(page, server, nb)
        t_run = time.monotonic()
        _run_all(page, server, nb)
        info['run_seconds'] = round(time.monotonic() - t_run, 1)
        saved = _save(page, server, nb)
        dest = artifacts / 'executed' / nb.removeprefix('nbs/')            # the lessons side by side, as `nb_outputs --compare` reads them
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(server.root / nb, dest)
        info['stderr_outputs'] = sum(o.get('name') == 'stderr' for c in saved['cells'] for o in c.get('outputs', []))
        problems = _errors(saved)
        n = _num(nb)
        if n in WIDGETS:
            sel = f'.{WIDGETS[n]}, .jp-OutputArea-output .widget-slider'
            info['widgets'] = page.locator(sel).count()
            if not info['widgets']: problems.append(f"no widget rendered (looked for {sel})")
            broken = page.locator('.jp-OutputArea-output', has_text='Error displaying widget').count()
            if broken: problems.append(f"{broken} widget outputs say 'Error displaying widget'")
            if info['widgets'] and not broken:
                try: _interact(page, n); info['interaction'] = 'ok'
                except AssertionError as e: problems.append(str(e))
        if n in PLOTS:
            info['images'] = page.locator('.jp-OutputArea-output img').count()
            if not info['images']: problems.append("no plot rendered (no <img> in any output)")
        problems += _unrendered(page, saved)
        for sel in ('.jp-OutputArea-output .jupyter-widgets', '.jp-OutputArea-output img'):   # show a widget, else a plot
            if page.locator(sel).count():
                page.locator(sel).first.scroll_into_view_if_needed(); break
        page.screenshot(path=str(artifacts / f"{nb.replace('/', '-')[:-len('.ipynb')]}.png"))
        assert not problems, f"{nb} in JupyterLab:\n" + '\n'.join(problems)
        info['ok'] = True
    except Exception:
        try: page.screenshot(path=str(artifacts / f"{nb.replace('/', '-')[:-len('.ipynb')]}-FAILED.png"))
        except Exception: pass
        raise
    finally:
        info['seconds'] = round(time.monotonic() - t0, 1)
        page.close()
        try: server.shutdown_kernels()          # free the CPU for the next notebook
        except OSError: pass
