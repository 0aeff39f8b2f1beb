"""The questionnaire's `check` used from plain Python (a script or a test, not a notebook), under both start methods.

Answers defined in this file reach a spawned process as source read from the file; hostile answers must give a
failed result within the timeout plus a small constant, and leave this process exactly as it was.
"""
import os, signal, sys, time
import pytest, torch
import scratchnet.sandbox as sandbox
from scratchnet.quiz import check, check_text, QUESTIONS

METHODS = ['fork', 'spawn'] if 'fork' in sandbox.mp.get_all_start_methods() else ['spawn']
SLACK = {'fork': 30., 'spawn': 30.}     # a hang guard on top of the timeout, not a speed test: the answers never end on their own

@pytest.fixture(params=METHODS)
def method(request):
    before = sandbox.START_METHOD
    sandbox.START_METHOD = request.param
    yield request.param
    sandbox.START_METHOD = before

SCALE = 1.0
def helper(x): return x.clamp_min(0.) * SCALE
def good_relu(x): return helper(x)
def c_loop(x): return sum(range(10**11))
def swallower(x):
    while True:
        try:
            while True: pass
        except BaseException: pass
def alarm_reset(x):
    signal.signal(signal.SIGALRM, signal.SIG_IGN)
    while True: pass
def hard_exit(x): os._exit(7)
def soft_exit(x): sys.exit(7)
def leaks(x):
    torch.set_default_dtype(torch.float64); signal.signal(signal.SIGALRM, signal.SIG_IGN); os.chdir('/')
    return x.clamp_min(0.)
def in_place(a, b): r = a @ b; a.zero_(); return r

def test_right_answer_from_a_module_file(method):
    r = check(2, good_relu)
    assert r.passed, r
    assert check(2, lambda x: x.clamp_min(0.)).passed                  # a lambda: its text is cut out of its line

HOSTILE = [(c_loop, 'did not finish within 1 s'), (swallower, 'did not finish'), (alarm_reset, 'did not finish'),
           (hard_exit, 'exit code 7'), (soft_exit, 'SystemExit: 7')]

CASES = [(m, f, part) for m in METHODS for f, part in HOSTILE if m == 'fork' or f not in (alarm_reset, soft_exit)]  # spawn is slow to start

@pytest.mark.parametrize('start, answer, part', CASES, ids=[f"{m}-{f.__name__}" for m, f, _ in CASES])
def test_hostile_answers_fail_in_time(start, answer, part, monkeypatch):
    monkeypatch.setattr(sandbox, 'START_METHOD', start)
    t0 = time.monotonic()
    r = check(2, answer, timeout=1)
    assert not r.passed and r.graded and part in r.message, r
    assert time.monotonic() - t0 < 1 + SLACK[start]

def test_nothing_leaks_into_this_process(method):
    before = torch.get_default_dtype(), signal.getsignal(signal.SIGALRM), os.getcwd()
    assert check(2, leaks).passed
    assert (torch.get_default_dtype(), signal.getsignal(signal.SIGALRM), os.getcwd()) == before

def test_mutating_an_input_fails(method):
    r = check(23, in_place)
    assert not r.passed and 'changed its input a in place' in r.message, r

@pytest.mark.parametrize('timeout', [float('inf'), float('nan'), -1, 0, '1', True, None])
def test_bad_timeout_is_an_argument_error(timeout):
    r = check(2, good_relu, timeout=timeout)
    assert not r.passed and not r.graded and 'check: timeout' in r.message and r.message.split(':')[0] in ('TypeError', 'ValueError'), r

def test_text_formats_are_exact():
    assert check(13, 'tensor([1, 2]) + tensor([1]) = tensor([2, 3])').passed
    assert not check(14, 'It does not raise an error').passed
    assert not check(13, 'banana').passed and '✗ Question 13' in check_text(13, 'banana')._repr_html_()
    assert len(check(16, 'x' * 10**6).message) < 700
    assert {q['kind'] for q in QUESTIONS.values()} == {'code', 'choice', 'number', 'shape', 'value', 'prose'}
