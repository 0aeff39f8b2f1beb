"""The GitHub workflows in .github/workflows/, checked here since they cannot run here.

- every workflow file is YAML that parses, with triggers and jobs;
- `test.yml` runs on push and pull request, on Linux, for settings.ini's min_python and max_python, and its one
  command is the README's test command;
- `docs.yml` builds the site with the README's docs command and publishes settings.ini's doc_path to GitHub Pages;
- the README links to the published site (doc_host + doc_baseurl) and says how to build it locally.
"""
import configparser, re
from pathlib import Path
import pytest, yaml

ROOT = Path(__file__).resolve().parents[1]
WORKFLOWS = ROOT / '.github' / 'workflows'
CFG = configparser.ConfigParser(delimiters=['='])
CFG.read(ROOT / 'settings.ini', encoding='utf-8')
CFG = CFG['DEFAULT']
README = (ROOT / 'README.md').read_text(encoding='utf-8')

def _load(name):
    wf = yaml.safe_load((WORKFLOWS / name).read_text(encoding='utf-8'))
    wf['on'] = wf.pop(True, wf.get('on'))          # YAML 1.1 reads the bare key `on` as true
    return wf

def _steps(wf): return [s for job in wf['jobs'].values() for s in job.get('steps', [])]
def _runs(wf): return [s['run'].strip() for s in _steps(wf) if 'run' in s]
def _uses(wf): return {s['uses'].split('@')[0]: s for s in _steps(wf) if 'uses' in s}

def readme_command(what):
    "The README's `python3 dev.py WHAT` command, as a reader copies it (from a code block or inline code)."
    found = set(re.findall(rf'^(python3 dev\.py {what})(?:\s+#.*)?$', README, re.M)) | set(re.findall(rf'`(python3 dev\.py {what})`', README))
    assert found == {f'python3 dev.py {what}'}, f"the README never shows the command `python3 dev.py {what}`"
    return found.pop()

@pytest.mark.parametrize('name', sorted(p.name for p in WORKFLOWS.glob('*.y*ml')) or ['(none)'])
def test_workflow_parses(name):
    assert (WORKFLOWS / name).exists(), "no workflow in .github/workflows/"
    wf = _load(name)
    assert isinstance(wf, dict) and wf.get('name') and wf['on'] and wf.get('jobs'), f"{name}: needs a name, triggers and jobs"
    for job_name, job in wf['jobs'].items():
        assert str(job.get('runs-on', '')).startswith('ubuntu-'), f"{name}: job {job_name} must run on Linux (ubuntu-*)"
        for step in job['steps']:
            assert ('run' in step) != ('uses' in step), f"{name}: a step must either run a command or use an action: {step}"

def test_the_test_workflow_runs_the_readme_command():
    wf = _load('test.yml')
    assert {'push', 'pull_request'} <= set(wf['on']), "test.yml must run on push and pull_request"
    (job,) = wf['jobs'].values()
    assert job['strategy']['matrix']['python-version'] == [CFG['min_python'], CFG['max_python']], \
        "test.yml must test settings.ini's min_python and max_python"
    assert _uses(wf)['actions/setup-python']['with']['python-version'] == '${{ matrix.python-version }}'
    assert 'actions/checkout' in _uses(wf)
    assert _runs(wf) == [readme_command('test')], f"test.yml must run exactly the README's test command, not {_runs(wf)}"

def test_the_docs_workflow_publishes_the_site():
    wf = _load('docs.yml')
    assert _runs(wf) == [readme_command('docs')], f"docs.yml must run exactly the README's docs command, not {_runs(wf)}"
    uses = _uses(wf)
    assert uses['actions/upload-pages-artifact']['with']['path'] == CFG['doc_path'], "docs.yml must publish settings.ini's doc_path"
    assert 'actions/deploy-pages' in uses and 'actions/checkout' in uses
    assert wf['permissions'].get('pages') == 'write' and wf['permissions'].get('id-token') == 'write', "deploy-pages needs pages and id-token: write"
    assert CFG['branch'] in wf['on']['push']['branches'], "docs.yml publishes settings.ini's branch"
    version = lambda v: tuple(map(int, str(v).split('.')))
    assert version(CFG['min_python']) <= version(uses['actions/setup-python']['with']['python-version']) <= version(CFG['max_python'])

def test_readme_links_to_the_site():
    url = CFG['doc_host'].rstrip('/') + CFG['doc_baseurl'].rstrip('/') + '/'
    assert re.search(rf'Read it online[^\n]*\]\({re.escape(url)}\)', README), f"the README must link 'Read it online' to {url}"
    line = next((l for l in README.splitlines() if '`python3 dev.py docs`' in l), '')
    assert f"{CFG['doc_path']}/index.html" in line, "the README must say where the locally built site opens"

def test_readme_commands_are_found():
    "The command finder itself: it sees the README's two commands, and nothing that only looks like them."
    assert readme_command('test') == 'python3 dev.py test' and readme_command('docs') == 'python3 dev.py docs'
    assert not re.findall(r'^(python3 dev\.py test)(?:\s+#.*)?$', 'python3 dev.py test --fast', re.M)
