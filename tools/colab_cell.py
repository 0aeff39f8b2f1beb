#!/usr/bin/env python3
"""The one definition of every notebook's first cell: the hidden cell that installs this course on Colab.

The cell is built from settings.ini (the distribution name `lib_name` and the repository `git_url`), so changing where
the course comes from means changing settings.ini and running this script:

    python3 tools/colab_cell.py            # rewrite the first cell of every notebook in nbs/ (and exercises/)
    python3 tools/colab_cell.py --check    # exit 1 if any notebook's first cell differs (CI runs this via pytest)

It never names a bare package: `pip install "<dist> @ git+<git_url>"` can only install this project's own source.
"""
import configparser, json, sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

def settings():
    cfg = configparser.ConfigParser(delimiters=['='])
    cfg.read(ROOT / 'settings.ini', encoding='utf-8')
    return cfg['DEFAULT']

def install_spec():
    "The pip requirement that installs this course from its own repository: `<dist> @ git+<git_url>`."
    cfg = settings()
    return f"{cfg['lib_name']} @ git+{cfg['git_url']}"

def cell_source():
    "The source of the Colab cell, as it must stand first in every notebook."
    return ("#| hide\n"
            "# On Colab, install this course from its own repository (the package index's `scratchnet` is someone else's).\n"
            f"! [ -e /content ] && pip install -qq \"{install_spec()}\"")

def notebooks():
    return sorted(p for d in ('nbs', 'exercises') for p in (ROOT / d).glob('*.ipynb'))

def main(argv):
    check, want, bad = '--check' in argv, cell_source(), []
    for p in notebooks():
        nb = json.loads(p.read_text(encoding='utf-8'))
        first = nb['cells'][0]
        if first['cell_type'] == 'code' and ''.join(first['source']) == want: continue
        bad.append(p.relative_to(ROOT))
        if check: continue
        if first['cell_type'] == 'code' and '[ -e /content ]' in ''.join(first['source']):
            first['source'] = want.splitlines(keepends=True)
        else:
            raise SystemExit(f"{p}: the first cell is not a Colab install cell; add one by hand first")
        p.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + '\n', encoding='utf-8')
    if check and bad:
        print(f"Colab cell out of date in {', '.join(map(str, bad))}: run python3 tools/colab_cell.py"); return 1
    if not check: print(f"rewrote the Colab cell in {len(bad)} notebooks" if bad else "every Colab cell is current")
    return 0

if __name__ == '__main__': sys.exit(main(sys.argv[1:]))
