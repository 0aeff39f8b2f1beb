#!/usr/bin/env python3
"""Render README.md from nbs/index.ipynb (Quarto, which `nbdev_readme` needs, is not available everywhere).

Markdown cells are copied as they are; code cells become ```python blocks with their text outputs, if any;
cells marked `#| hide` (or `#|hide`) are dropped, and so are nbdev directives (`#| ...` lines).

    python tools/make_readme.py          # write README.md
    python tools/make_readme.py --check  # exit 1 if README.md is not what the notebook renders to
"""
import json, re, sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HEADER = "<!-- Generated from nbs/index.ipynb by tools/make_readme.py: edit the notebook, not this file. -->\n\n"
_directive = re.compile(r'^\s*#\s*\|')

def _src(cell): return ''.join(cell['source']) if isinstance(cell['source'], list) else cell['source']

def _code(cell):
    lines = _src(cell).splitlines()
    if any(re.match(r'^\s*#\s*\|\s*hide\b', l) for l in lines): return None
    body = '\n'.join(l for l in lines if not _directive.match(l)).strip('\n')
    if not body: return None
    out = [f"```python\n{body}\n```"]
    for o in cell.get('outputs', []):
        text = o.get('text') or o.get('data', {}).get('text/plain')
        if text: out.append("```\n" + (''.join(text) if isinstance(text, list) else text).rstrip('\n') + "\n```")
    return '\n\n'.join(out)

def render(nb_path=ROOT/'nbs'/'index.ipynb'):
    nb = json.loads(Path(nb_path).read_text(encoding='utf-8'))
    parts = []
    for cell in nb['cells']:
        part = _src(cell).strip('\n') if cell['cell_type'] == 'markdown' else _code(cell) if cell['cell_type'] == 'code' else None
        if part: parts.append(part)
    return HEADER + '\n\n'.join(parts) + '\n'

def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    readme, text = ROOT/'README.md', render()
    if '--check' in argv:
        if not readme.exists() or readme.read_text(encoding='utf-8') != text:
            print("README.md is out of date with nbs/index.ipynb: run `python tools/make_readme.py`", file=sys.stderr)
            return 1
        print("README.md is in sync with nbs/index.ipynb")
        return 0
    readme.write_text(text, encoding='utf-8')
    print("wrote README.md")
    return 0

if __name__ == '__main__': sys.exit(main())
