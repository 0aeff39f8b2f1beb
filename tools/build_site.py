#!/usr/bin/env python3
"""Build the course website into settings.ini's `doc_path` (`_docs/`) with Jupyter Book 1, from the committed notebooks.

Run it with `python3 dev.py docs`, which creates the docs' own virtual environment (`.docs-venv`, with
settings.ini's `docs_requirements`) and runs this script with it. It uses that environment's Jupyter Book and the
standard library only: no notebook is executed, nothing is fetched from the network, and the package is read with
`ast`, never imported (the docs environment has no PyTorch).

What it stages, in a scratch book under `_proc/site/`, before `jupyter-book build` turns it into HTML:

- the home page (nbs/index.ipynb), then the lessons (nbs/00..10) in reading order, the notebooks after the lessons
  (11, 12), the appendices (90..), the exercise notebooks (exercises/) and the API reference, each a part of the sidebar;
- every notebook with its committed outputs, and nbdev's directives honoured: a cell marked `#| hide` (or
  `#| include: false`) is left out, `#| echo: false` shows only the output, `#| output: false` only the code, and the
  `#| ...` lines themselves are never shown;
- each notebook's `## Tests` section, with everything after it (the exercise checks), on a page of its own below the
  notebook's page in the sidebar, so that the page reads as the lesson;
- under each title, links to the notebook on the git host and to a Colab launch of it (settings.ini's `git_url` and
  `branch`), and to the API of the module it builds (its `#| default_exp`); at the end of the lesson, every public
  name it exports, each linked to its entry in the API reference;
- the API reference: one page per module of scratchnet/, with each name of its `__all__`, its signature and docstring;
- links written for JupyterLab (`04_backward.ipynb#The-chain-rule`) pointed at the same heading on the site.

    python tools/build_site.py            # build into _docs/ (settings.ini's doc_path)
"""
import ast, configparser, hashlib, json, posixpath, re, shutil, subprocess, sys, time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
STAGE = ROOT / '_proc' / 'site'            # the scratch book (ignored by git, like nbdev's own _proc/)

def settings():
    cfg = configparser.ConfigParser(delimiters=['='])
    cfg.read(ROOT / 'settings.ini', encoding='utf-8')
    return cfg['DEFAULT']

CFG = settings()

# --- where each notebook lives on the git host and on Colab --------------------------------------------------------

def github_url(rel):
    "The notebook `rel` (a path from the repository root) on the git host, on settings.ini's branch."
    return f"{CFG['git_url'].rstrip('/')}/blob/{CFG['branch']}/{rel}"

def colab_url(rel):
    "A Colab launch of the notebook `rel`: Colab opens GitHub notebooks at colab.research.google.com/github/USER/REPO/blob/..."
    owner_repo = re.sub(r'^https?://github\.com/', '', CFG['git_url'].rstrip('/')).removesuffix('.git')
    return f"https://colab.research.google.com/github/{owner_repo}/blob/{CFG['branch']}/{rel}"

# --- nbdev directives ------------------------------------------------------------------------------------------------

_DIRECTIVE = re.compile(r'^\s*#\s*\|\s*(.*?)\s*$')

def _src(cell): return ''.join(cell['source']) if isinstance(cell['source'], list) else cell['source']

def directives(src):
    "The nbdev directives of a cell (`#| hide` → {'hide': ''}, `#| echo: false` → {'echo': 'false'})."
    out = {}
    for line in src.splitlines():
        m = _DIRECTIVE.match(line)
        if m and m.group(1):
            body = m.group(1)
            key, _, value = body.partition(':') if re.match(r'^[\w-]+\s*:', body) else body.partition(' ')
            out[key.strip()] = value.strip()
    return out

def shown_code(src):
    "The code a reader sees: the source without its `#| ...` directive lines."
    return '\n'.join(l for l in src.splitlines() if not _DIRECTIVE.match(l)).strip('\n')

def reader_cell(cell):
    "The cell as the site shows it, or None when nbdev hides it."
    if cell['cell_type'] != 'code': return dict(cell, metadata={})
    src = _src(cell)
    d = directives(src)
    if 'hide' in d or d.get('include') == 'false': return None
    code, outputs, tags = shown_code(src), cell.get('outputs', []), []
    if d.get('echo') == 'false': tags.append('remove-input')
    if d.get('output') == 'false': outputs = []
    if not code and not outputs: return None
    return dict(cell, source=code, outputs=outputs, metadata={'tags': tags} if tags else {})

# --- headings: JupyterLab's anchors and MyST's ------------------------------------------------------------------------

_HEADING = re.compile(r'^(#{1,6})\s+(.*?)\s*#*\s*$')

def headings(md):
    "(level, text) of each heading of a markdown cell, outside code fences."
    out, fence = [], None
    for line in md.splitlines():
        f = re.match(r'^\s*(```+|~~~+)', line)
        if f: fence = None if fence and f.group(1).startswith(fence) else fence or f.group(1)
        elif not fence and (m := _HEADING.match(line)): out.append((len(m.group(1)), m.group(2)))
    return out

def _plain(text):
    "A heading's text as a browser shows it: no backticks, emphasis markers or link targets."
    text = re.sub(r'\[([^\]]*)\]\([^)]*\)', r'\1', text)
    return re.sub(r'`|\*\*|(?<!\w)\*(?=\S)|(?<=\S)\*(?!\w)', '', text)

def jupyter_anchor(text): return _plain(text).replace(' ', '-')     # JupyterLab's id: the heading's text, spaces → '-'

def myst_slug(text):
    "MyST's heading anchor (myst_parser's default_slugify of the heading's text and inline code; math is left out)."
    text = re.sub(r'\$[^$]+\$', '', _plain(text))
    return re.sub(r'[^\w\u4e00-\u9fff\- ]', '', text.lower().replace(' ', '-'))

# --- the pages -------------------------------------------------------------------------------------------------------

def notebook(path): return json.loads(Path(path).read_text(encoding='utf-8'))

def title_of(nb):
    for c in nb['cells']:
        if c['cell_type'] == 'markdown':
            for level, text in headings(_src(c)):
                if level == 1: return _plain(text).strip()
    return None

def default_exp(nb):
    for c in nb['cells']:
        m = re.search(r'^\s*#\s*\|\s*default_exp\s+(\S+)', _src(c), re.M)
        if m: return m.group(1)
    return None

def split_tests(cells):
    "(the lesson's cells, the cells from the `## Tests` heading on), so the tests can get a page of their own."
    for i, c in enumerate(cells):
        if c['cell_type'] == 'markdown' and _src(c).lstrip().startswith('## Tests'): return cells[:i], cells[i:]
    return cells, []

def _id(*parts): return hashlib.sha1('/'.join(parts).encode()).hexdigest()[:8]

def md_cell(text, *key): return {'cell_type': 'markdown', 'id': _id('site', *key), 'metadata': {}, 'source': text}

def with_links_under_title(cells, links):
    "Put `links` right under the page's `# title` line (inside the title's cell, before any text that follows it)."
    out = list(cells)
    for i, c in enumerate(out):
        if c['cell_type'] != 'markdown': continue
        lines = _src(c).splitlines(keepends=True)
        for j, line in enumerate(lines):
            if re.match(r'^#\s+\S', line):
                out[i] = dict(c, source=''.join(lines[:j + 1]) + '\n' + links + '\n\n' + ''.join(lines[j + 1:]).lstrip('\n'))
                return out
    return [md_cell(links, 'links')] + out

def links_block(rel, module=None, extra=''):
    "The block of links under a page's title: the notebook on the git host, on Colab, and the module's API."
    parts = [f"[Open in Colab]({colab_url(rel)})", f"[The notebook on GitHub]({github_url(rel)})"]
    if module: parts.append(f"API: {{py:mod}}`scratchnet.{module}`")
    if extra: parts.append(extra)
    return ':::{container} nb-links\n' + ' · '.join(parts) + '\n:::'

def write_nb(nb, cells, dest):
    meta = {k: v for k, v in nb.get('metadata', {}).items() if k in ('kernelspec', 'language_info')}
    meta.setdefault('language_info', {'name': 'python', 'pygments_lexer': 'ipython3'})
    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.write_text(json.dumps({'cells': cells, 'metadata': meta, 'nbformat': 4, 'nbformat_minor': 5}, indent=1, ensure_ascii=False),
                    encoding='utf-8')

class Site:
    def __init__(self):
        self.anchors = {}       # repository path of a notebook -> {JupyterLab anchor: (staged page, MyST slug)}
        self.api = {}           # module -> [public names]
        self.problems = []      # links that could not be pointed anywhere: printed, and the link check fails on them

    def plan(self):
        "Which notebooks become which pages, in the sidebar's order."
        nbs = sorted(p for p in (ROOT / 'nbs').glob('[0-9][0-9]_*.ipynb'))
        num = lambda p: int(p.name[:2])
        return {'Lessons': [p for p in nbs if num(p) <= 10],
                'After the lessons': [p for p in nbs if 10 < num(p) < 90],
                'Appendices': [p for p in nbs if num(p) >= 90],
                'Exercises': sorted((ROOT / 'exercises').glob('[0-9][0-9]_*.ipynb'))}

    def index_anchors(self, path, lesson, tests):
        rel, page = path.relative_to(ROOT).as_posix(), path.relative_to(ROOT).with_suffix('')
        found = self.anchors.setdefault(rel, {})
        for part, cells in ((page.as_posix(), lesson), (f"{page.as_posix()}_tests", tests)):
            for c in cells:
                if c['cell_type'] == 'markdown':
                    for _, text in headings(_src(c)): found.setdefault(jupyter_anchor(text), (part, myst_slug(text)))

    def fix_links(self, md, src_rel, page):
        "Point `X.ipynb#Jupyter-anchor` links at the staged page and MyST slug that hold that heading on the site."
        here = Path(src_rel).parent
        def target(m):
            text, url = m.group(1), m.group(2)
            if re.match(r'^[a-z]+:', url) or ('.ipynb' not in url and not url.startswith('#')): return m.group(0)
            file, _, anchor = url.partition('#')
            rel = (here / file).as_posix() if file else src_rel
            rel = re.sub(r'[^/]+/\.\./', '', rel)
            if rel not in self.anchors and file and (ROOT / 'nbs' / Path(file).name).exists():
                rel = f"nbs/{Path(file).name}"    # an exercise notebook pointing at a lesson-only notebook: the lesson's
            if rel not in self.anchors:
                self.problems.append(f"{src_rel}: link to {url}, which is not a page of the site"); return m.group(0)
            doc = rel.removesuffix('.ipynb')
            if anchor:
                hit = self.anchors[rel].get(anchor) or next((v for k, v in self.anchors[rel].items() if myst_slug(k.replace('-', ' ')) == anchor.lower()), None)
                if not hit:
                    self.problems.append(f"{src_rel}: link to {url}: {rel} has no such heading"); return m.group(0)
                doc, anchor = hit
            href = posixpath.relpath(doc, posixpath.dirname(page) or '.') + '.ipynb' + (f"#{anchor}" if anchor else '')
            return f"[{text}]({href})"
        return re.sub(r'\[([^\]]*)\]\(((?:[^()\s]|\((?:[^()\s]|\([^()\s]*\))*\))+)\)', target, md)

    def stage_notebook(self, path, part):
        "Stage one notebook (and its tests page); return its sidebar entry."
        rel = path.relative_to(ROOT).as_posix()
        nb = notebook(path)
        page = rel.removesuffix('.ipynb')
        lesson, tests = self._split[rel]
        module = default_exp(nb) or (default_exp(notebook(ROOT / 'nbs' / path.name)) if part == 'Exercises' else None)
        extra = f"The lesson, solved: [{title_of(notebook(ROOT / 'nbs' / path.name))}](../nbs/{path.name})" if part == 'Exercises' else ''
        def clean(cells, key):
            out = []
            for i, c in enumerate(cells):
                c = reader_cell(c)
                if c is None: continue
                c = dict(c, id=c.get('id') or _id(page, key, str(i)))
                if c['cell_type'] == 'markdown': c['source'] = self.fix_links(_src(c), rel, page + ('_tests' if key == 'tests' else ''))
                out.append(c)
            return out
        cells = with_links_under_title(clean(lesson, 'lesson'), links_block(rel, module, extra))
        title = title_of(nb) or path.stem
        closing = []
        if module and part != 'Exercises' and self.api.get(module):
            names = ', '.join(f"{{py:obj}}`{n} <scratchnet.{module}.{n}>`" for n in self.api[module])
            closing.append(f"This notebook builds {{py:mod}}`scratchnet.{module}`: {names}.")
        if tests:
            closing.append(f"Its closing tests{' and exercise checks' if part != 'Exercises' and any('Exercise checks' in _src(c) for c in tests) else ''} "
                           f"are on a page of their own: [Tests: {title}]({path.stem}_tests.ipynb).")
        if closing:
            cells.append(md_cell(':::{admonition} In the package, and its tests\n:class: seealso\n' + '\n\n'.join(closing) + '\n:::', page, 'closing'))
        write_nb(nb, cells, STAGE / rel)
        entry = {'file': page, 'title': f"{path.name[:2]} · {title}"}
        if tests:
            tcells = [md_cell(f"# Tests: {title}\n\n{links_block(rel, module)}\n\nThe closing section of [{title}]({path.stem}.ipynb): "
                              "the checks that the notebook's functions do what it says, run by `nbdev_test` on every change.", page, 'tests-title')]
            write_nb(nb, tcells + clean(tests, 'tests'), STAGE / f"{page}_tests.ipynb")
            entry['sections'] = [{'file': f"{page}_tests", 'title': 'Tests'}]
        return entry

    def stage_index(self):
        nb = notebook(ROOT / 'nbs' / 'index.ipynb')
        cells = []
        for i, c in enumerate(nb['cells']):
            c = reader_cell(c)
            if c is None: continue
            if c['cell_type'] == 'markdown':    # the table's notebook names become links to their pages
                c['source'] = self.fix_links(_src(c), 'nbs/index.ipynb', 'index')
                c['source'] = re.sub(r'^\| `(\d\d_\w+)` \|', lambda m: f"| [`{m.group(1)}`](nbs/{m.group(1)}.ipynb) |", c['source'], flags=re.M)
            cells.append(dict(c, id=c.get('id') or _id('index', str(i))))
        write_nb(nb, with_links_under_title(cells, links_block('nbs/index.ipynb')), STAGE / 'index.ipynb')

    def build_api(self, lessons):
        "One page per module: each name of `__all__` with its signature and docstring, read with `ast`."
        entries = []
        for mod_path in sorted((ROOT / 'scratchnet').glob('*.py'), key=lambda p: lessons.get(p.stem, ('zz', ''))[0]):
            if mod_path.name.startswith('_'): continue
            module = mod_path.stem
            text = api_page(module, mod_path, *lessons.get(module, (None, None)))
            (STAGE / 'api').mkdir(parents=True, exist_ok=True)
            (STAGE / 'api' / f"{module}.md").write_text(text, encoding='utf-8')
            entries.append({'file': f"api/{module}", 'title': f"scratchnet.{module}"})
        return entries

    def build(self):
        if STAGE.exists(): shutil.rmtree(STAGE)
        STAGE.mkdir(parents=True)
        plan = self.plan()
        self._split = {}
        lessons = {}                                   # module -> (notebook name, title)
        for part, paths in plan.items():
            for p in paths:
                nb = notebook(p)
                self._split[p.relative_to(ROOT).as_posix()] = split_tests(nb['cells'])
                self.index_anchors(p, *self._split[p.relative_to(ROOT).as_posix()])
                if part != 'Exercises' and default_exp(nb): lessons[default_exp(nb)] = (p.name, title_of(nb))
        self.anchors['nbs/index.ipynb'] = {}
        for c in notebook(ROOT / 'nbs' / 'index.ipynb')['cells']:
            if c['cell_type'] == 'markdown':
                for _, text in headings(_src(c)): self.anchors['nbs/index.ipynb'].setdefault(jupyter_anchor(text), ('index', myst_slug(text)))
        self.api = {m.stem: public_names(m) for m in (ROOT / 'scratchnet').glob('*.py') if not m.name.startswith('_')}
        toc = {'format': 'jb-book', 'root': 'index', 'parts': []}
        self.stage_index()
        for part, paths in plan.items():
            if paths: toc['parts'].append({'caption': part, 'chapters': [self.stage_notebook(p, part) for p in paths]})
        toc['parts'].append({'caption': 'API reference', 'chapters': self.build_api(lessons)})
        (STAGE / '_toc.yml').write_text(json.dumps(toc, indent=1, ensure_ascii=False), encoding='utf-8')   # JSON is YAML
        (STAGE / '_config.yml').write_text(json.dumps(book_config(), indent=1, ensure_ascii=False), encoding='utf-8')
        (STAGE / '_static').mkdir(exist_ok=True)
        (STAGE / '_static' / 'scratchnet.css').write_text(CSS, encoding='utf-8')
        return self.problems

# --- the API reference -------------------------------------------------------------------------------------------------

def public_names(mod_path):
    "The module's `__all__`, as nbdev_export writes it."
    for node in ast.parse(mod_path.read_text(encoding='utf-8')).body:
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == '__all__' for t in node.targets):
            return list(ast.literal_eval(node.value))
    return []

def _signature(fn, drop_self=False):
    args = fn.args
    if drop_self and (args.posonlyargs or args.args):
        args = ast.arguments(**{**{f: getattr(args, f) for f in args._fields},
                                **({'posonlyargs': args.posonlyargs[1:]} if args.posonlyargs else {'args': args.args[1:]})})
    sig = f"({ast.unparse(args)})"
    return sig + (f" -> {ast.unparse(fn.returns)}" if fn.returns else '')

def _doc(node):
    doc = ast.get_docstring(node, clean=True) if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Module)) else None
    return (doc or '').strip()

def _fence(directive, arg, body, opts=(), colons=3):
    c = ':' * colons
    return '\n'.join([f"{c}{{{directive}}} {arg}", *opts, '', body, c]) if body else '\n'.join([f"{c}{{{directive}}} {arg}", *opts, c])

def api_page(module, mod_path, nb_name, nb_title):
    tree = ast.parse(mod_path.read_text(encoding='utf-8'))
    defs = {}
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)): defs[node.name] = node
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            for t in (node.targets if isinstance(node, ast.Assign) else [node.target]):
                for n in ast.walk(t):
                    if isinstance(n, ast.Name): defs.setdefault(n.id, node)
    out = [f"# scratchnet.{module}", '']
    if nb_name:
        rel = f"nbs/{nb_name}"
        out += [f":::{{container}} nb-links\nBuilt in [{nb_title}](../{rel}) · [Open in Colab]({colab_url(rel)}) · "
                f"[The notebook on GitHub]({github_url(rel)})\n:::", '']
    out += [f"```{{py:module}} scratchnet.{module}\n```", '']
    doc = _doc(tree)
    if doc: out += [doc, '']
    for name in public_names(mod_path):
        node = defs.get(name)
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            out.append(_fence('py:function', name + _signature(node), _doc(node))); out.append('')
        elif isinstance(node, ast.ClassDef):
            init = next((n for n in node.body if isinstance(n, ast.FunctionDef) and n.name == '__init__'), None)
            bases = ', '.join(ast.unparse(b) for b in node.bases)
            body = [f"Bases: `{bases}`", ''] if bases else []
            if _doc(node): body += [_doc(node), '']
            for m in node.body:
                if isinstance(m, (ast.FunctionDef, ast.AsyncFunctionDef)) and (not m.name.startswith('_') or m.name == '__call__'):
                    static = any(isinstance(d, ast.Name) and d.id == 'staticmethod' for d in m.decorator_list)
                    kind = 'py:staticmethod' if static else 'py:method'
                    body += [_fence(kind, m.name + _signature(m, drop_self=not static), _doc(m)), '']
            out.append(_fence('py:class', name + (_signature(init, drop_self=True) if init else ''), '\n'.join(body).strip(), colons=4)); out.append('')
        elif node is not None:
            value = getattr(node, 'value', None)
            shown = ast.unparse(value) if value is not None else ''
            opts = [f":value: {json.dumps(shown)}"] if shown and len(shown) <= 120 and '\n' not in shown else []
            out.append(_fence('py:data', name, '', opts)); out.append('')
        else:
            out.append(_fence('py:data', name, '')); out.append('')
    return '\n'.join(out)

# --- the book's configuration ----------------------------------------------------------------------------------------

CSS = """.nb-links { font-size: 0.95em; margin: -0.5em 0 1.2em; }
"""

def book_config():
    return {
        'title': CFG['title'], 'author': CFG['author'], 'copyright': CFG['copyright'],
        'only_build_toc_files': True,
        'exclude_patterns': ['_build', '**.ipynb_checkpoints'],
        'execute': {'execute_notebooks': 'off'},                          # the committed outputs are the pages' outputs
        'parse': {'myst_enable_extensions': ['colon_fence', 'dollarmath']},
        'repository': {'url': CFG['git_url'], 'branch': CFG['branch'], 'path_to_book': ''},
        'html': {'use_repository_button': True, 'baseurl': CFG['doc_host'].rstrip('/') + CFG['doc_baseurl'].rstrip('/') + '/',
                 'home_page_in_navbar': True, 'use_multitoc_numbering': False},
        'launch_buttons': {'notebook_interface': 'jupyterlab'},
        'latex': {'use_jupyterbook_latex': False},
        'sphinx': {'recursive_update': True, 'config': {    # merged into Jupyter Book's own Sphinx settings
            # Jupyter Book's extensions without thebe (live code needs Binder and the web, and sphinx-thebe 0.3 declares its
            # script twice on every page: a console error) and intersphinx (inventories from the web).
            'extensions': ['sphinx_togglebutton', 'sphinx_copybutton', 'myst_nb', 'jupyter_book', 'sphinx_comments',
                           'sphinx_external_toc', 'sphinx_design', 'sphinx_book_theme'],
            'html_copy_source': False,                     # the notebooks are on the git host, one link away ...
            'html_theme_options': {'use_download_button': False},      # ... so no button offers the staged copies
            'html_context': {'default_mode': 'auto'},      # else a first visit logs "Got invalid theme mode"
            'html_css_files': ['scratchnet.css'],
            'nb_merge_streams': True,
            'myst_heading_anchors': 4,                     # `04_backward.ipynb#the-chain-rule` links reach their heading
            'html_show_copyright': True,
            'add_module_names': False,
            'python_display_short_literal_types': True,
            'suppress_warnings': ['myst.header'],          # a notebook may go from its title to a ### heading
        }},
    }

def main(argv=None):
    out = ROOT / CFG['doc_path']
    t0 = time.time()
    problems = Site().build()
    for p in problems: print(f"site: {p}", file=sys.stderr)
    jb = [sys.executable, '-c', 'from jupyter_book.cli.main import main; main()']     # `jupyter-book`, on any platform
    build = STAGE / '_build'
    proc = subprocess.run([*jb, 'build', str(STAGE), '--builder', 'html', '--path-output', str(STAGE), '--quiet', '--keep-going'],
                          cwd=STAGE, capture_output=True, text=True)
    warnings = [l for l in (proc.stdout + proc.stderr).splitlines() if re.search(r'WARNING|ERROR', l)]
    for w in warnings: print(w.replace(str(STAGE) + '/', ''), file=sys.stderr)
    if proc.returncode != 0 or not (build / 'html' / 'index.html').exists():
        print(proc.stdout[-4000:], proc.stderr[-4000:], sep='\n', file=sys.stderr)
        print("FAIL: jupyter-book could not build the site", file=sys.stderr); return 1
    if out.exists(): shutil.rmtree(out)
    shutil.copytree(build / 'html', out)
    (out / '.nojekyll').write_text('')
    pages = len(list(out.rglob('*.html')))
    print(f"site: {pages} pages in {out.relative_to(ROOT)}/ ({time.time() - t0:.1f} s, {len(warnings)} warnings); open {out.relative_to(ROOT)}/index.html")
    return 1 if problems or warnings else 0

if __name__ == '__main__': sys.exit(main())
