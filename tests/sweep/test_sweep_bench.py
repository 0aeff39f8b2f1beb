"""The bad-input sweep over scratchnet.timing (the timing tools) and scratchnet.bench (the report's helpers and the command line). Timings have
no reference value, so good calls are checked for their form (a positive time, a row whose ratio is ours / reference,
the spread around it); bad calls must raise a clear error. The sections moved in from other lessons (speed_ladder,
bench_einsum, bench_train_step, bench_conv_step) are covered after the merge; here only 'peak' and 'numpy' run."""
import contextlib, io, json, math, os, runpy, sys
import numpy as np, torch, pytest
from harness import outcome
from scratchnet import bench, timing

M, T = 'bench', 'timing'
NOT_CALLABLE = [None, 3, 'f', [print]]
BAD_NUMBERS = [None, 'x', True, float('nan'), -1., 1e9]

def row(**kw): return {**dict(name='a', ours=2e-3, reference=1e-3, ratio=2.0, low=1.8, high=2.2, target=3.0), **kw}

def fake_report(**kw):
    r = dict(machine=dict(cpu='Toy', cores=2, threads=1, torch='2', python='3.11', system='Linux', gpu=None), quick=True,
             peak=dict(name='@ 8×8×8', n=8, seconds=1e-6, gflops=1.024, low_gflops=0.9, high_gflops=1.024),
             ladder=[dict(name='triple loop', seconds=1., speedup=1., gflops=1e-4, book=1.15, of_peak=1e-4),
                     dict(name='@', seconds=1e-5, speedup=1e5, gflops=0.5, book=14e-6, of_peak=0.5)],
             comparisons=[{**row(), 'section': 'numpy', 'holds': True, 'verdict': 'holds'}], nbdev_test=None,
             seconds=1., benchmark_seconds=1., budget_seconds=20.)
    return {**r, **kw}

# ---- time_it and compare_speed ----
@pytest.mark.parametrize('f', NOT_CALLABLE, ids=repr)
def test_time_it_not_callable(f): outcome(T, 'time_it', lambda: timing.time_it(f), error=True, what=repr(f))

@pytest.mark.parametrize('t', BAD_NUMBERS, ids=repr)
def test_time_it_bad_window(t): outcome(T, 'time_it', lambda: timing.time_it(print, min_run_time=t), error=True, what=repr(t))

def test_time_it_good():
    outcome(T, 'time_it', lambda: timing.time_it(sum, [1, 2], min_run_time=0.001), ok=lambda s: isinstance(s, float) and 0 < s < 1)

@pytest.mark.parametrize('ours, reference', [(None, print), (print, 3), ('a', 'b')], ids=str)
def test_compare_speed_not_callable(ours, reference):
    outcome(T, 'compare_speed', lambda: timing.compare_speed('x', ours, reference, 1.), error=True)

@pytest.mark.parametrize('kw', [dict(reps=0), dict(reps=2.5), dict(reps=10**6), dict(reps=None), dict(min_run_time=-1),
                                dict(min_run_time=float('nan')), dict(min_run_time=1e6), dict(target='2'), dict(target=-1.)], ids=str)
def test_compare_speed_bad_args(kw):
    args = {**dict(name='x', ours=print, reference=print, target=1.), **kw}
    outcome(T, 'compare_speed', lambda: timing.compare_speed(**args), error=True, what=str(kw))

def test_compare_speed_good():
    def ok(r):
        return (set(r) == {'name', 'ours', 'reference', 'ratio', 'low', 'high', 'target'}
                and r.target == 1. and r.ours > 0 and r.reference > 0)
    outcome(T, 'compare_speed', lambda: timing.compare_speed('two sums', lambda: sum([1]), lambda: sum([2]), 1., reps=1,
                                                            min_run_time=0.001), ok=ok)

def test_compare_speed_without_a_target():
    outcome(T, 'compare_speed', lambda: timing.compare_speed('demo', lambda: None, lambda: None, reps=2, min_run_time=0.001),
            ok=lambda r: r.target is None)

def test_compare_speed_remeasures_an_outlier(monkeypatch):
    times = iter([1e-3, 1e-3, 1e-3, 44e-3, 1e-3, 1e-3, 1e-3, 1e-3])      # one reference round 44× slower
    monkeypatch.setattr(timing, 'time_it', lambda f, min_run_time: next(times))
    outcome(T, 'compare_speed', lambda: timing.compare_speed('x', print, print, 1.5),
            ok=lambda r: (r.ratio, r.low, r.high) == (1., 1., 1.))

# ---- verdicts and tables ----
BAD_ROWS = {'None': None, 'empty': [], 'a string': 'rows', 'a dict': row(), 'missing keys': [dict(name='a', ratio=1.)],
            'negative ratio': [row(ratio=-1.)], 'inf ours': [row(ours=float('inf'))], 'nan low': [row(low=float('nan'))],
            'bool target': [row(target=True)], 'string time': [row(ours='fast')], 'not a dict': [3]}

@pytest.mark.parametrize('case', BAD_ROWS, ids=str)
def test_format_bench_bad(case): outcome(T, 'format_bench', lambda: timing.format_bench(BAD_ROWS[case]), error=True, what=case)

@pytest.mark.parametrize('fn', ['speed_verdict', 'target_verdict'])
@pytest.mark.parametrize('case', ['None', 'missing keys', 'negative ratio', 'nan low', 'string time', 'not a dict'])
def test_verdicts_bad(fn, case):
    r = BAD_ROWS[case]; r = r[0] if isinstance(r, list) else r
    mod = timing if fn == 'speed_verdict' else bench
    outcome(T if mod is timing else M, fn, lambda: getattr(mod, fn)(r), error=True, what=case)

@pytest.mark.parametrize('lo, hi, target, speed, verdict', [
    (0.5, 0.9, 1.0, 'ours faster in every round', 'holds'), (1.1, 1.3, 1.0, 'ours slower in every round', 'MISSES'),
    (0.97, 1.04, 1.0, 'within the noise', 'noise'), (1.2, 1.4, 1.5, 'ours slower in every round', 'holds'),
    (0.9, 2.0, 1.5, 'within the noise', 'noise'), (0.1, 1.2, 1.5, 'too noisy to call', 'noise')])
def test_verdicts_good(lo, hi, target, speed, verdict):
    r = row(ratio=(lo + hi) / 2, low=lo, high=hi, target=target)
    outcome(T, 'speed_verdict', lambda: timing.speed_verdict(r)[:len(speed)], ref=lambda: speed)
    outcome(M, 'target_verdict', lambda: bench.target_verdict(r), ref=lambda: verdict)
    outcome(T, 'format_bench', lambda: timing.format_bench([r]), ok=lambda t: speed in t and '✓' not in t and '✗' not in t)

def test_noisy_row_is_never_a_verdict():
    r = row(ratio=1.0, low=0.01, high=1.0, target=1.5)          # one round 100× off the other: the spread says noise
    outcome(M, 'target_verdict', lambda: bench.target_verdict(r), ref=lambda: 'noise')
    outcome(T, 'speed_verdict', lambda: timing.speed_verdict(r), ok=lambda s: s.startswith('too noisy'))
    outcome(T, 'format_bench', lambda: timing.format_bench([row(target=None)]), ok=lambda t: 'ours slower in every round' in t)

@pytest.mark.parametrize('fn, v', [('fmt_seconds', 'x'), ('fmt_seconds', [1.]), ('fmt_seconds', float('nan')), ('fmt_share', 'x'),
                                   ('fmt_share', True)], ids=str)
def test_formatters_bad(fn, v): outcome(M, fn, lambda: getattr(bench, fn)(v), error=True, what=repr(v))

@pytest.mark.parametrize('fn, v, want', [('fmt_seconds', 2.5, '2.5 s'), ('fmt_seconds', 0, '0 µs'), ('fmt_seconds', None, '-'),
                                         ('fmt_seconds', float('inf'), 'inf s'), ('fmt_share', 0.5, '50%'), ('fmt_share', None, '-')], ids=str)
def test_formatters_good(fn, v, want): outcome(M, fn, lambda: getattr(bench, fn)(v), ref=lambda: want)

# ---- the machine, the peak, the ladder's peak fraction ----
@pytest.mark.parametrize('m', [None, {}, dict(cpu='x'), 'machine', []], ids=repr)
def test_describe_machine_bad(m): outcome(M, 'describe_machine', lambda: bench.describe_machine(m), error=True, what=repr(m))

def test_describe_machine_good():
    outcome(M, 'describe_machine', lambda: bench.describe_machine(bench.machine_info()), ok=lambda s: 'torch threads' in s)

@pytest.mark.parametrize('kw', [dict(n=0), dict(n=-1), dict(n=2.5), dict(n=True), dict(n=None), dict(n=10**6), dict(n=8, reps=0),
                                dict(n=8, min_run_time=-1.), dict(n=8, min_run_time=float('nan')), dict(n='8')], ids=str)
def test_matmul_peak_bad(kw): outcome(M, 'matmul_peak', lambda: bench.matmul_peak(**kw), error=True, what=str(kw))

def test_matmul_peak_good():
    outcome(M, 'matmul_peak', lambda: bench.matmul_peak(1, min_run_time=0.001, reps=2),
            ok=lambda p: p['n'] == 1 and 0 < p['low_gflops'] <= p['high_gflops'] == p['gflops'] and
                         math.isclose(p['gflops'], 2 / p['seconds'] / 1e9))

@pytest.mark.parametrize('rows, peak', [(None, dict(gflops=1.)), ([dict(name='x')], dict(gflops=1.)), ([dict(gflops=1.)], 'peak'),
                                        ([3], None), ([dict(gflops=1.)], 3), ([dict(gflops=1.)], dict(gflops=0.)),
                                        ([dict(gflops=1.)], dict(name='peak'))], ids=str)
def test_with_peak_fraction_bad(rows, peak):
    outcome(M, 'with_peak_fraction', lambda: bench.with_peak_fraction(rows, peak), error=True)

def test_with_peak_fraction_good():
    outcome(M, 'with_peak_fraction', lambda: bench.with_peak_fraction([dict(gflops=1.)], dict(gflops=4.)), ref=lambda: [dict(gflops=1., of_peak=0.25)])
    outcome(M, 'with_peak_fraction', lambda: bench.with_peak_fraction([], None), ref=lambda: [])

# ---- rows, comparisons and the report ----
@pytest.mark.parametrize('case', BAD_ROWS, ids=str)
def test_check_rows_bad(case): outcome(T, 'check_rows', lambda: timing.check_rows(BAD_ROWS[case], 'toy'), error=True, what=case)

@pytest.mark.parametrize('key', ['gpu', None, 3, ['numpy'], 'NUMPY', ''], ids=repr)
def test_comparison_rows_bad(key): outcome(M, 'comparison_rows', lambda: bench.comparison_rows(key), error=True, what=repr(key))

def test_comparison_rows_numpy():
    def ok(rows):
        return ([r['name'] for r in rows] == ['784→50→1 mse, batch 256', '64→50→10 cross-entropy, batch 256'] and
                all(r['target'] == bench.TARGETS['numpy'] and r['section'] == 'numpy' and r['verdict'] == bench.target_verdict(r)
                    for r in rows))
    outcome(M, 'comparison_rows', lambda: bench.comparison_rows('numpy', quick=True), ok=ok)

@pytest.mark.parametrize('lr', [None, 'x', float('nan'), -1., 1e9], ids=repr)
def test_bench_numpy_step_bad(lr): outcome(M, 'bench_numpy_step', lambda: bench.bench_numpy_step(quick=True, lr=lr), error=True, what=repr(lr))

@pytest.mark.parametrize('only', ['peak', 5, ['gpu'], [], ('peak', 'nope')], ids=repr)
def test_run_benchmarks_bad(only): outcome(M, 'run_benchmarks', lambda: bench.run_benchmarks(quick=True, only=only, progress=False), error=True)

def test_run_benchmarks_peak():
    outcome(M, 'run_benchmarks', lambda: bench.run_benchmarks(quick=True, only=['peak'], progress=False),
            ok=lambda r: r['peak']['n'] == 1024 and r['ladder'] == [] and r['comparisons'] == [] and set(bench.REPORT_KEYS) <= set(r))

BAD_REPORTS = {'None': None, 'list': [], 'empty dict': {}, 'no ladder': {k: v for k, v in fake_report().items() if k != 'ladder'}}

@pytest.mark.parametrize('fn', ['format_report', 'what_the_numbers_say', 'plot_report'])
@pytest.mark.parametrize('case', BAD_REPORTS, ids=str)
def test_report_readers_bad(fn, case): outcome(M, fn, lambda: getattr(bench, fn)(BAD_REPORTS[case]), error=True, what=case)

def test_report_readers_good():
    outcome(M, 'format_report', lambda: bench.format_report(fake_report()), ok=lambda t: '6. one MLP training step' in t and '1.80–2.20×' in t)
    outcome(M, 'what_the_numbers_say', lambda: bench.what_the_numbers_say(fake_report()),
            ok=lambda t: 'by 100,000× in this run' in t and 'holds in 1' in t)
    outcome(M, 'plot_report', lambda: bench.plot_report(fake_report()), ok=lambda f: len(f.axes) == 2)
    outcome(M, 'plot_report', lambda: bench.plot_report(fake_report(ladder=[], comparisons=[])), error=True)

@pytest.mark.parametrize('report, path', [(None, 'x.json'), (fake_report(), None), (fake_report(), 3)], ids=['report None', 'path None', 'path int'])
def test_save_report_bad(report, path): outcome(M, 'save_report', lambda: bench.save_report(report, path), error=True)

def test_save_report_round_trip(tmp_path):
    p = tmp_path / 'r.json'
    outcome(M, 'save_report', lambda: (bench.save_report(fake_report(), p), json.loads(p.read_text()))[1], ref=lambda: fake_report())

# ---- the project finder and row 7 ----
@pytest.mark.parametrize('start', [3, [], b'.'], ids=repr)
def test_find_project_bad(start): outcome(M, 'find_project', lambda: bench.find_project(start), error=True)

def test_find_project_good(tmp_path):
    outcome(M, 'find_project', lambda: bench.find_project(tmp_path), ref=lambda: None)

@pytest.mark.parametrize('kw', [dict(project=3), dict(n_workers=0), dict(n_workers='2'), dict(n_workers=10**6)], ids=str)
def test_time_nbdev_test_bad(kw, tmp_path):
    outcome(M, 'time_nbdev_test', lambda: bench.time_nbdev_test(**{'project': tmp_path, **kw}), error=True, what=str(kw))

def test_time_nbdev_test_outside_a_clone(tmp_path):
    outcome(M, 'time_nbdev_test', lambda: bench.time_nbdev_test(tmp_path), error=True)

# ---- the command line ----
# What pip writes for the console script `scratchnet-bench = scratchnet.bench:bench_cli` (settings.ini), run as a script:
# `call_parse` then parses sys.argv, exactly as the installed command does.
CONSOLE_SCRIPT = "import sys\nfrom scratchnet.bench import bench_cli\nif __name__ == '__main__':\n    sys.exit(bench_cli())\n"

def console(tmp_path, argv):
    "Run the console script with `argv`; its exit status (argparse exits 2 with a usage message on a bad command line)."
    script = tmp_path / 'scratchnet-bench'
    script.write_text(CONSOLE_SCRIPT)
    old = sys.argv
    sys.argv = [str(script), *argv]
    try:
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            runpy.run_path(str(script), run_name='__main__')
    except SystemExit as e: return e.code
    finally: sys.argv = old
    return 'the script did not exit'

@pytest.mark.parametrize('argv', [['--only', 'gpu'], ['--only', ''], ['--only', ','], ['--bogus'], ['--json'], ['extra'],
                                  ['--nbdev-test']], ids=str)
def test_console_bad_command_lines(tmp_path, argv):
    outcome(M, 'bench_cli', lambda: console(tmp_path, argv), ref=lambda: 2, what=str(argv))

def test_console_writes_json(tmp_path):
    p = tmp_path / 'b.json'
    def run(): return console(tmp_path, ['--quick', '--only=peak', '--no_progress', f'--json={p}']), json.loads(p.read_text())
    outcome(M, 'bench_cli', run, ok=lambda r: r[0] == 0 and r[1]['peak']['n'] == 1024 and r[1]['ladder'] == [] and r[1]['quick'] is True)

@pytest.mark.parametrize('only', ['gpu', 5, ''], ids=repr)
def test_bench_cli_bad(only): outcome(M, 'bench_cli', lambda: bench.bench_cli(only=only, no_progress=True), error=True, what=repr(only))
