"""Every equivalent form of a right answer is accepted, and the wrong ones are still rejected (issue #24).

A choice as the quiz prints it, `(b) text`, and option text with any spacing or case; numbers, shapes and tensors given
as Python objects; numbers written with √. The forms are read without `eval`: nothing in an answer's text runs.
"""
import fractions, math, os
import numpy as np, pytest, torch
from scratchnet.quiz import check, QUESTIONS
from scratchnet.quiz_checks import _KEYS, _norm

CHOICE = [n for n, q in QUESTIONS.items() if q['kind'] == 'choice']

def passes(n, answer):
    r = check(n, answer)
    assert r.passed and r.graded, f"Q{n} rejected the right answer {answer!r}: {r}"

def fails(n, answer, part=''):
    r = check(n, answer)
    assert not r.passed and r.graded and part in r.message, f"Q{n} accepted {answer!r}, or said something else: {r}"

@pytest.mark.parametrize('n', CHOICE)
def test_the_printed_form_is_right(n):
    "What the quiz prints on success, `(b) text`, is accepted as an answer; a letter with another option's text is not."
    opts, right = QUESTIONS[n]['options'], _KEYS[n]['right']
    letter = 'abcd'[right]
    passes(n, f"({letter}) {opts[right]}")
    passes(n, check(n, letter).message.removeprefix('Correct: '))             # the very text of the success message
    passes(n, f"{letter.upper()}) {opts[right].upper()}")
    for i, text in enumerate(opts):
        if i != right:
            fails(n, f"({'abcd'[i]}) {text}", 'is not it')
            fails(n, f"({letter}) {text}", 'disagree')                      # the right letter cannot carry a wrong text
            fails(n, f"({'abcd'[i]}) {opts[right]}", 'disagree')
    fails(n, f"({letter}) not {opts[right]}")

def squeezed(s): return ''.join(c for i, c in enumerate(s) if c != ' ' or (s[i - 1].isalnum() and s[i + 1].isalnum()))
def spread(s): return ''.join(f" {c} " if not (c.isalnum() or c in " '_") else c for c in s)

@pytest.mark.parametrize('n', CHOICE)
def test_option_text_with_other_spacing(n):
    "Spaces around symbols and case do not matter; spaces between words, and every other character, still do."
    opts, right = QUESTIONS[n]['options'], _KEYS[n]['right']
    assert len({_norm(o) for o in opts}) == len(opts), f"Q{n}: two options read the same once spacing is ignored"
    for variant in (squeezed, spread, str.upper): passes(n, variant(opts[right]))
    for i, text in enumerate(opts):
        if i != right:
            for variant in (squeezed, spread): fails(n, variant(text), 'is not it')
    text = opts[right]
    gaps = [i for i in range(1, len(text) - 1) if text[i] == ' ' and text[i - 1].isalnum() and text[i + 1].isalnum()]
    if gaps: fails(n, text[:gaps[0]] + text[gaps[0] + 1:])                     # two words run together are another text

def test_the_issue_spellings():
    passes(19, 'c[:,None]'); passes(19, '(b) c[:,None]'); passes(18, 'm+c.unsqueeze(1)'); passes(18, '(c) m+c.unsqueeze(1)')
    for bad in ['c[None]', 'c[:,None,None]', 'c[:None]', 'c[:,1]', 'c[None,:]', '(b) c[None]']: fails(19, bad)
    for bad in ['m+c', 'm+c.unsqueeze(0)', 'm+c.unsqueeze(-1)', 'm + c.unsqueeze (1) + 0', 'm-c.unsqueeze(1)']: fails(18, bad)

def test_numbers_as_objects():
    "A number question takes the number itself: a Python, Fraction or NumPy number, or a 0-d tensor."
    for ok in [0.0625, 1 / 16, fractions.Fraction(1, 16), np.float64(0.0625), np.float32(0.0625), np.float16(0.0625),
               torch.tensor(0.0625), torch.tensor(0.0625, dtype=torch.float64), math.sqrt(2 / 512)]: passes(29, ok)
    for bad in [1 / math.sqrt(512), 2 / 512, -0.0625, 0, 1, 10**400, float('nan'), float('inf'), np.int64(0), fractions.Fraction(1, 8),
                torch.tensor(0.044)]: fails(29, bad, 'is not it')
    for bad in [True, np.bool_(True), 0.0625j, torch.tensor([0.0625]), [0.0625], (0.0625,), {'x': 0.0625}, None, b'0.0625',
                torch.tensor(True), np.array([0.0625])]: fails(29, bad, 'expected')

def test_roots_and_arithmetic():
    for ok in ['1/√256', '√(2/512)', '√2/√512', '1 / √ 256', '√√256/64', '1/√(256)', '√(1/256)', '0.25**2', '1÷16', '√0.00390625']: passes(29, ok)
    for bad in ['√2/512', '1/√512', '√', '√-1', '√(2/512', '√x', '1/√2√56', '√(2/512))', 'sqrt', '√[2/512]', '2√2/512']: fails(29, bad)

def test_no_eval(tmp_path):
    "Text is parsed, never run: a call that would make a file makes none."
    target = tmp_path / 'made'
    for bad in [f"__import__('pathlib').Path({str(target)!r}).touch()", f"√(__import__('os').mkdir({str(target)!r}))",
                f"sqrt(open({str(target)!r}, 'w').write('x'))"]:
        fails(29, bad, 'is not a number')
        fails(16, bad)
        fails(13, bad)
    assert not target.exists()

def test_shapes_as_objects():
    for n, right in [(16, (5, 3, 4)), (31, (4, 4))]:
        for ok in [right, list(right), torch.Size(right)]: passes(n, ok)
        for bad in [right[::-1] + (1,), right[:-1], (*right, 1), (1, *right), tuple(-v for v in right)]: fails(n, bad)
        for bad in [tuple(float(v) for v in right), (True, *right[1:]), (right,), torch.tensor(right), np.array(right), set(right), None]:
            fails(n, bad, 'expected')
    fails(16, (5, 1, 4), 'is not it'); fails(31, (4,), 'is not it')

def test_a_tensor_for_question_13():
    "Q13 asks for the value of tensor([1,2]) + tensor([1]): a tensor equal to tensor([2, 3]), whatever its dtype."
    for ok in [torch.tensor([1, 2]) + torch.tensor([1]), torch.tensor([2, 3]), torch.tensor([2., 3.]), torch.tensor([2, 3], dtype=torch.int8)]: passes(13, ok)
    for bad in [torch.tensor([2, 2]), torch.tensor([[2, 3]]), torch.tensor([2, 3, 1]), torch.tensor([2.5, 3]), torch.tensor([3, 2]),
                torch.tensor(2), torch.zeros(10**6)]: fails(13, bad, 'is not it')
    for bad in [torch.tensor([True, True]), torch.tensor([2, 3], dtype=torch.complex64), torch.nn.Parameter(torch.tensor([2., 3.])),
                [2, 3], np.array([2, 3]), (2, 3)]: fails(13, bad, 'expected')

def test_numpy_bool_message_does_not_contradict_itself():
    def all_greater(a, b): return np.bool_((a > b).all().item())
    r = check(11, all_greater)
    assert not r.passed and 'expected a Python bool' in r.message and 'numpy.bool' in r.message, r
    assert 'got a bool' not in r.message, r
