#!/usr/bin/env python3
"""Render README.md from nbs/index.ipynb with nbconvert's `MarkdownExporter` (Quarto, which `nbdev_readme` needs, is
not available everywhere).

nbconvert does the rendering: markdown cells as they are, code cells as ```python blocks, their text outputs below.
The one thing it does not know is nbdev's cell directives, so one small preprocessor drops the `#| hide` cells and the
`#| ...` lines of the others.

    python tools/make_readme.py          # write README.md
    python tools/make_readme.py --check  # exit 1 if README.md is not what the notebook renders to
"""
import re, sys
from pathlib import Path
import nbformat
from nbconvert import MarkdownExporter
from nbconvert.preprocessors import Preprocessor

ROOT = Path(__file__).resolve().parent.parent
HEADER = "<!-- Generated from nbs/index.ipynb by tools/make_readme.py: edit the notebook, not this file. -->\n\n"
_directive, _hide = re.compile(r'^\s*#\s*\|'), re.compile(r'^\s*#\s*\|\s*hide\b', re.M)

class NbdevDirectives(Preprocessor):
    "Drop `#| hide` code cells and code cells left empty, and remove `#| ...` directive lines from the rest."
    def preprocess(self, nb, resources):
        nb.cells = [c for c in nb.cells if c.cell_type != 'code' or not _hide.search(c.source)]
        for c in nb.cells:
            if c.cell_type == 'code': c.source = '\n'.join(l for l in c.source.splitlines() if not _directive.match(l)).strip('\n')
        nb.cells = [c for c in nb.cells if c.cell_type != 'code' or c.source]
        nb.metadata.setdefault('language_info', {})['name'] = 'python'     # the language of the ``` fences
        return nb, resources

def render(nb_path=ROOT/'nbs'/'index.ipynb'):
    nb = nbformat.read(nb_path, as_version=4)
    exporter = MarkdownExporter()
    exporter.register_preprocessor(NbdevDirectives(), enabled=True)
    body, _ = exporter.from_notebook_node(nb)
    return HEADER + body.strip('\n') + '\n'

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
