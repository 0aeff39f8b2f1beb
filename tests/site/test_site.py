"""The course website, as a reader meets it: every page of the built site opened in Chromium.

Given a site built into `_docs/` (`python3 dev.py docs`; or $SCRATCHNET_DOCS_DIR), this serves it with a local
`http.server` on 127.0.0.1 and opens every page in the same headless Chromium the JupyterLab test drives
(Debian's `chromium`, with pytest-playwright's `browser` fixture, tests/conftest.py; `playwright install` is never used). Requests for anything on the web are
refused, as they would fail on an offline machine. On each page:

- no console error and no uncaught exception, apart from failed loads of resources on the web (MathJax, fonts);
- every <img> has loaded (its naturalWidth is not 0);
- every internal link leads to a file of the site, and its #anchor to an element of that page;
- each page made from a notebook links to that notebook on the git host and to a Colab launch of it, shows no `#| hide`
  cell and no `#| ...` directive line, and keeps the notebook's `## Tests` section off the lesson's own page;
- each lesson's page shows the first plot of its notebook: that PNG output is one of the page's loaded images;
- each public name of the package has its entry in the API reference, linked from the notebook that builds it.

`python3 dev.py test` builds the site and runs this file as its own step; `python3 dev.py docs --check` does only that.
"""
import ast, base64, functools, hashlib, html.parser, http.server, json, os, re, sys, threading, urllib.parse
from pathlib import Path
import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / 'tools'))
import colab_cell                                            # settings.ini, read the way the other tools read it

CFG = colab_cell.settings()
DOCS = Path(os.environ.get('SCRATCHNET_DOCS_DIR', ROOT / CFG['doc_path'])).resolve()
PAGES = sorted(p.relative_to(DOCS).as_posix() for p in DOCS.rglob('*.html')
               if not p.relative_to(DOCS).parts[0].startswith('_')) if DOCS.is_dir() else []   # not the theme's _static/ templates
LESSONS = sorted(p for p in (ROOT / 'nbs').glob('[0-9][0-9]_*.ipynb') if int(p.name[:2]) <= 10)

def _page_of(html_rel):
    "The repository notebook a page was made from (`nbs/00_matmul.html` and its tests page → nbs/00_matmul.ipynb), or None."
    if html_rel == 'index.html': return 'nbs/index.ipynb'
    m = re.fullmatch(r'((?:nbs|exercises)/\d\d_\w+?)(?:_tests)?\.html', html_rel)
    return f"{m.group(1)}.ipynb" if m and (ROOT / f"{m.group(1)}.ipynb").exists() else None

class _Ids(html.parser.HTMLParser):
    "Every id (and <a name>) in an HTML file: the anchors a link may point at."
    def __init__(self):
        super().__init__(); self.ids = set()
    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if a.get('id'): self.ids.add(a['id'])
        if tag == 'a' and a.get('name'): self.ids.add(a['name'])

@functools.cache
def ids_in(path):
    p = _Ids(); p.feed(Path(path).read_text(encoding='utf-8', errors='replace')); return p.ids

class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args): pass

@pytest.fixture(scope='session')
def artifacts():
    "Where SKIPPED.txt goes when there is no Chromium (tests/conftest.py)."
    path = Path(os.environ.get('SCRATCHNET_SITE_ARTIFACTS', ROOT / 'artifacts' / 'site')).resolve()
    path.mkdir(parents=True, exist_ok=True)
    return path

@pytest.fixture(scope='session')
def site():
    "The base URL of the built site, served by the standard library's `http.server` on a port the system picks."
    assert (DOCS / 'index.html').exists(), f"no site in {DOCS}: build it with `python3 dev.py docs`"
    server = http.server.ThreadingHTTPServer(('127.0.0.1', 0), functools.partial(_Quiet, directory=str(DOCS)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f'http://127.0.0.1:{server.server_address[1]}/'
    server.shutdown(); server.server_close()

@pytest.fixture(scope='session')
def reader(browser, browser_context_args, site):
    """One page of pytest-playwright's `browser` (on the system's Chromium, tests/conftest.py) that reads the site as an
    offline reader would: every request that leaves the site is refused; console messages, uncaught exceptions and
    failed loads are collected in `events`."""
    context = browser.new_context(**browser_context_args, viewport={'width': 1280, 'height': 900})
    context.route('**/*', lambda route: route.continue_() if route.request.url.startswith(site) else route.abort())
    page, events = context.new_page(), []
    page.on('console', lambda m: events.append(('console', m.type, m.text, m.location.get('url', ''))))
    page.on('pageerror', lambda e: events.append(('pageerror', 'error', str(e), '')))
    page.on('requestfailed', lambda r: events.append(('requestfailed', r.failure or '', r.url, r.url)))
    yield page, events
    context.close()

def _is_web(url, base): return bool(url) and not url.startswith(base) and urllib.parse.urlparse(url).scheme in ('http', 'https')

def _problems_in_events(events, base):
    "Console errors and failed requests, apart from resources on the web that an offline run cannot load."
    out = []
    for kind, level, text, url in events:
        if kind == 'requestfailed':
            if not _is_web(url, base): out.append(f"failed to load {url}: {level}")
        elif kind == 'pageerror': out.append(f"uncaught exception: {text}")
        elif level == 'error' and not (text.startswith('Failed to load resource') and _is_web(url, base)):
            out.append(f"console error: {text}" + (f" ({url})" if url else ''))
    return out

def _broken_links(hrefs, base):
    "Each internal link must lead to a file of the site, and an #anchor to an element of the page it leads to."
    out = []
    for href in sorted(set(hrefs)):
        if not href.startswith(base): continue                  # the web, mailto:, javascript:
        parts = urllib.parse.urlsplit(href)
        path = urllib.parse.unquote(parts.path)[len(urllib.parse.urlsplit(base).path):]
        target = DOCS / path
        if path == '' or path.endswith('/'): target = target / 'index.html'
        if not target.is_file(): out.append(f"link to {href}: no file {target.relative_to(DOCS) if target.is_relative_to(DOCS) else target}"); continue
        frag = urllib.parse.unquote(parts.fragment)
        if frag and target.suffix == '.html' and frag not in ids_in(target):
            out.append(f"link to {href}: {target.relative_to(DOCS).as_posix()} has no element with id {frag!r}")
    return out

def _first_png(nb):
    "The bytes of the notebook's first PNG output, or None."
    for c in json.loads(nb.read_text(encoding='utf-8'))['cells']:
        for o in c.get('outputs', []):
            png = o.get('data', {}).get('image/png')
            if png: return base64.b64decode(''.join(png) if isinstance(png, list) else png)
    return None

def test_the_site_was_built():
    assert (DOCS / 'index.html').exists(), f"no site in {DOCS}: build it with `python3 dev.py docs`"
    pages = set(PAGES)
    missing = [nb for nb in sorted((ROOT / 'nbs').glob('[0-9][0-9]_*.ipynb')) + sorted((ROOT / 'exercises').glob('*.ipynb'))
               if nb.relative_to(ROOT).with_suffix('.html').as_posix() not in pages]
    assert not missing, f"notebooks without a page: {[str(m.relative_to(ROOT)) for m in missing]}"
    plots = [nb.name for nb in LESSONS if _first_png(nb)]
    assert len(plots) >= 5, f"only {plots} have a plot: the first-plot check would check almost nothing"

def _all(module):
    "The module's `__all__`, read from its source (as tools/build_site.py reads it)."
    for node in ast.parse((ROOT / 'scratchnet' / f'{module}.py').read_text(encoding='utf-8')).body:
        if isinstance(node, ast.Assign) and any(getattr(t, 'id', None) == '__all__' for t in node.targets): return ast.literal_eval(node.value)
    return []

def test_api_reference_documents_every_public_name():
    "Each public name of each module has its entry in the API reference, and the lesson that builds it links to that entry."
    problems = []
    for nb in sorted((ROOT / 'nbs').glob('[0-9][0-9]_*.ipynb')):
        m = re.search(r'#\s*\|\s*default_exp\s+(\w+)', nb.read_text(encoding='utf-8'))
        if not m: continue
        module, api, page = m.group(1), DOCS / 'api' / f'{m.group(1)}.html', DOCS / 'nbs' / f'{nb.stem}.html'
        if not api.is_file() or not page.is_file(): problems.append(f"{nb.name}: no page {api.relative_to(DOCS)} or {page.relative_to(DOCS)}"); continue
        ids, lesson = ids_in(api), page.read_text(encoding='utf-8')
        for name in _all(module):
            if f'scratchnet.{module}.{name}' not in ids: problems.append(f"api/{module}.html documents no {name}")
            if f'href="../api/{module}.html#scratchnet.{module}.{name}"' not in lesson: problems.append(f"{page.relative_to(DOCS)} does not link to {name}'s entry")
    assert not problems, '\n'.join(problems)

@pytest.mark.parametrize('html_rel', PAGES)
def test_page(site, reader, html_rel):
    base, (page, events) = site, reader
    events.clear()
    resp = page.goto(base + html_rel, wait_until='load', timeout=60_000)
    assert resp is not None and resp.ok, f"{html_rel}: HTTP {resp and resp.status}"
    images = page.evaluate("""async () => {
        const imgs = Array.from(document.images);
        for (const i of imgs) { i.loading = 'eager'; try { await i.decode(); } catch (e) {} }
        return imgs.map(i => [i.currentSrc || i.src, i.naturalWidth]); }""")
    hrefs = page.eval_on_selector_all('a[href]', 'els => els.map(a => a.href)')
    problems = _problems_in_events(events, base)
    problems += [f"image did not load: {src}" for src, width in images if not width]
    problems += _broken_links(hrefs, base)
    nb = _page_of(html_rel)
    if nb:                                                    # the notebook on the git host, and on Colab
        repo = re.sub(r'^https?://github\.com/', '', CFG['git_url'].rstrip('/'))
        want = {f"https://colab.research.google.com/github/{repo}/blob/{CFG['branch']}/{nb}",
                f"{CFG['git_url'].rstrip('/')}/blob/{CFG['branch']}/{nb}"}
        problems += [f"no link to {u}" for u in sorted(want - set(hrefs))]
        # nbdev's directives are honoured, and the tests have a page of their own
        code = page.eval_on_selector_all('div.cell pre', 'els => els.map(e => e.innerText)')
        problems += [f"a code cell shows an nbdev directive: {l.strip()!r}" for c in code for l in c.splitlines() if re.match(r'\s*#\s*\|', l)]
        problems += ["a hidden cell is shown (the Colab install cell)" for c in code if '[ -e /content ]' in c]
        h2 = page.eval_on_selector_all('h2', 'els => els.map(e => e.innerText.trim())')
        if not html_rel.endswith('_tests.html') and any(re.match(r'Tests\b', h) for h in h2):
            problems.append("the notebook's `## Tests` section is on the page; it belongs on the page of its own")
    lesson = ROOT / nb if nb and nb.startswith('nbs/') and not html_rel.endswith('_tests.html') else None
    if lesson in LESSONS and (png := _first_png(lesson)):     # the lesson's first plot is on its page
        digest = hashlib.sha256(png).hexdigest()
        shown = {hashlib.sha256((DOCS / urllib.parse.unquote(urllib.parse.urlsplit(src).path)[len(urllib.parse.urlsplit(base).path):]).read_bytes()).hexdigest()
                 for src, width in images if width and src.startswith(base)}
        if digest not in shown: problems.append(f"the first plot of {lesson.name} is not among the page's {len(images)} images")
    assert not problems, f"{html_rel}:\n" + '\n'.join(problems)
