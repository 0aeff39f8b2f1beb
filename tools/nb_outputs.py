#!/usr/bin/env python3
"""Notebooks are committed with the outputs of a real top-to-bottom run; this keeps those outputs honest.

    python3 dev.py outputs [NB ...]               # run notebooks in a fresh kernel (not in IN_TEST mode) and save
                                                  # their outputs in place, cleaned (default: every notebook in nbs/)
    python3 tools/nb_outputs.py --compare DIR     # compare nbs/*.ipynb with executed copies in DIR (CI: the JupyterLab
                                                  # run's copies); exit 1 on any difference outside timing cells

What is compared, cell by cell: the kinds of output, every text (stdout, reprs, HTML, markdown) with object
addresses removed, and each image's pixel size. A cell whose source has the line `#| timing` shows figures that
depend on the clock: its outputs are left out of the comparison (its errors and warnings never are). Widget state and
widget views are never committed: their ids are new on every run.
"""
import json, os, re, struct, subprocess, sys, base64
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
WIDGET_MIME = 'application/vnd.jupyter.widget-view+json'
TIMING = re.compile(r'^#\|\s*timing\s*$', re.M)
_ADDR = re.compile(r'(<[^<>]*?) at 0x[0-9a-fA-F]+(>)')

def is_timing(cell): return cell['cell_type'] == 'code' and bool(TIMING.search(''.join(cell['source'])))

def strip_volatile(nb):
    "Remove widget state and widget views (new ids every run) from `nb`, in place."
    nb.get('metadata', {}).pop('widgets', None)
    for c in nb['cells']:
        for o in c.get('outputs', []):
            o.get('data', {}).pop(WIDGET_MIME, None)
    return nb

def _png_size(b64):
    raw = base64.b64decode(''.join(b64) if isinstance(b64, list) else b64)
    return struct.unpack('>II', raw[16:24]) if raw[:8] == b'\x89PNG\r\n\x1a\n' else ('?', len(raw))

def _text(v): return _ADDR.sub(r'\1\2', ''.join(v) if isinstance(v, list) else v)

def normalised(cell):
    "The comparable content of one code cell's outputs: a list of (kind, value) pairs."
    out = []
    for o in cell.get('outputs', []):
        t = o['output_type']
        if t == 'stream':
            if out and out[-1][0] == o['name']: out[-1] = (o['name'], out[-1][1] + _text(o['text']))
            else: out.append((o['name'], _text(o['text'])))
        elif t == 'error': out.append(('error', f"{o['ename']}: {o['evalue']}"))
        else:
            for mime, v in sorted(o.get('data', {}).items()):
                if mime == WIDGET_MIME: continue
                out.append((mime, _png_size(v) if mime == 'image/png' else _text(v)))
    return out

def differences(committed, executed):
    "Describe where two versions of a notebook differ in their outputs; [] when they agree."
    a, b = committed['cells'], executed['cells']
    if [c['source'] for c in a] != [c['source'] for c in b]: return ["the cells' sources differ (not the same notebook version)"]
    probs = []
    for i, (ca, cb) in enumerate(zip(a, b)):
        if ca['cell_type'] != 'code': continue
        na, nb_ = normalised(ca), normalised(cb)
        if is_timing(ca):   # clock-dependent figures: only errors and warnings must agree (there must be none)
            na, nb_ = [x for x in na if x[0] in ('error', 'stderr')], [x for x in nb_ if x[0] in ('error', 'stderr')]
        if na != nb_:
            for j, (x, y) in enumerate(zip(na + [None] * len(nb_), nb_ + [None] * len(na))):
                if x != y:
                    probs.append(f"cell {i} output {j}: committed {str(x)[:300]!r}\n           this run {str(y)[:300]!r}"); break
    return probs

def compare(executed_dir):
    "Compare every notebook in nbs/ with its executed copy in `executed_dir`; print the findings; 0 when all agree."
    executed_dir, nbs, ok = Path(executed_dir), sorted((ROOT / 'nbs').glob('*.ipynb')), 0
    for p in nbs:
        q = executed_dir / p.name
        probs = (differences(json.loads(p.read_text(encoding='utf-8')), json.loads(q.read_text(encoding='utf-8')))
                 if q.exists() else [f"no executed copy in {executed_dir}"])
        if probs: print(f"{p.name}: committed outputs differ from a fresh run (make the cell reproducible, or rerun "
                        f"`python3 dev.py outputs nbs/{p.name}` and commit):\n  " + '\n  '.join(probs[:5]))
        else: ok += 1
    print(f"committed outputs: {ok} of {len(nbs)} notebooks match a fresh run")
    return 0 if ok == len(nbs) else 1

def execute(paths, timeout=900):
    "Run each notebook top to bottom in a fresh kernel (cwd nbs/, IN_TEST unset) and save it with its outputs, cleaned."
    import nbformat
    from nbclient import NotebookClient
    env_before = os.environ.pop('IN_TEST', None)
    try:
        for p in map(Path, paths):
            print(f"running {p} ...", flush=True)
            nb = nbformat.read(p, as_version=4)
            NotebookClient(nb, timeout=timeout, kernel_name='python3', resources={'metadata': {'path': str(p.parent)}}).execute()
            strip_volatile(nb)
            nbformat.write(nb, p)
    finally:
        if env_before is not None: os.environ['IN_TEST'] = env_before
    nbdev_clean = Path(sys.executable).parent / 'nbdev_clean'
    for p in paths: subprocess.run([str(nbdev_clean), '--fname', str(p)], check=True, cwd=ROOT)

if __name__ == '__main__':
    args = sys.argv[1:]
    if args[:1] == ['--compare'] and len(args) == 2: sys.exit(compare(args[1]))
    sys.exit(execute(args or sorted(map(str, (ROOT / 'nbs').glob('*.ipynb')))))
