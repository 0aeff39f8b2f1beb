"Packaging for scratchnet. Every setting comes from settings.ini (the nbdev 2 layout): edit that file, not this one."
from configparser import ConfigParser
import setuptools

cfg = ConfigParser(delimiters=['='])
cfg.read('settings.ini', encoding='utf-8')
cfg = cfg['DEFAULT']

def _split(key): return cfg.get(key, '').split()

_licenses = {'apache2': 'Apache-2.0'}     # settings.ini's nbdev name -> the SPDX expression packaging expects
def _minor_range():
    "Python 3 minor versions from min_python to max_python in settings.ini, both included."
    lo, hi = (int(cfg[k].split('.')[1]) for k in ('min_python', 'max_python'))
    return range(lo, hi + 1)

_statuses = ['1 - Planning', '2 - Pre-Alpha', '3 - Alpha', '4 - Beta', '5 - Production/Stable']

setuptools.setup(
    name=cfg['lib_name'],
    version=cfg['version'],
    description=cfg['description'],
    keywords=cfg['keywords'],
    author=cfg['author'],
    author_email=cfg['author_email'],
    license=_licenses[cfg['license']],
    license_files=['LICENSE'],
    url=cfg['git_url'],
    classifiers=[f"Development Status :: {_statuses[int(cfg['status']) - 1]}",
                 f"Intended Audience :: {cfg['audience'].title()}",
                 f"Natural Language :: {cfg['language'].title()}",
                 "Programming Language :: Python :: 3",
                 *[f"Programming Language :: Python :: 3.{v}" for v in _minor_range()]],
    packages=setuptools.find_packages(include=[cfg['lib_path'], cfg['lib_path'] + '.*']),
    include_package_data=True,
    install_requires=_split('requirements'),
    extras_require={'dev': _split('dev_requirements'), 'teach': _split('teach_requirements')},
    python_requires='>=' + cfg['min_python'],
    long_description=open('README.md', encoding='utf-8').read(),
    long_description_content_type='text/markdown',
    zip_safe=False,
    entry_points={'console_scripts': _split('console_scripts'),
                  'nbdev': [f"{cfg['lib_path']}={cfg['lib_path']}._modidx:d"]},
)
