"""The complexity estimate on clear cases of each class, and the EWMA-based ETA."""

from __future__ import annotations

import pytest

from forge_cli.core.models import Complexity
from forge_cli.engine.eta import EwmaEta
from forge_cli.tasks.classify.complexity import estimate

SIMPLE, MEDIUM, COMPLEX = Complexity.SIMPLE, Complexity.MEDIUM, Complexity.COMPLEX

PLAIN = "I can't log in to my account since yesterday. Could you reset it, please?"

# -------------------------------------------------------------------------------------- estimate


@pytest.mark.parametrize(
    "text",
    [
        PLAIN,
        "",
        "How do I change the e-mail address on my invoices?",
        "We have 404 users and 500 seats; please upgrade our plan.",  # numbers, not statuses
        "Please SELECT the right plan for us and send the invoice.",
        "I tried the following (twice):\n- restart\n- reinstall",
        "Error: it does not save. Any idea why?",  # a bare "Error:" is not a trace
        "My voucher CODE1234 is rejected",
        "Why? How? When? Where is my invoice?",  # questions alone only lean towards medium
        "First part.\n\nSecond part.\n\nThird part.",
    ],
)
def test_simple(text: str):
    assert estimate(text) is SIMPLE


@pytest.mark.parametrize(
    "text",
    [
        "Uploading fails with HTTP 503 since this morning.",
        "The API keeps answering 429 Too Many Requests.",
        "Checkout shows error 500 every time.",
        "The export returns status code 404 for /api/v2/export.",
        "Windows update fails with 0x8007045D.",
        "Chrome shows ERR_CONNECTION_RESET on the dashboard.",
        "Training crashes with CUDA_ERROR_OUT_OF_MEMORY after a few steps.",
        "The printer stops and shows E1234.",
        "Saving fails, errno 28.",
        "connect ECONNREFUSED 127.0.0.1:5432",
        "My config:\n```\nretries = 3\n```\ndoes not apply.",
        "This line breaks it:\nint x = compute(y);\nprint(x)",
        "function load(a, b) { return a + b } fails in Safari",
        "My code:\ndef load(path):\n    return open(path).read()",
        "SELECT id, name FROM users WHERE id = 1 is slow on your cluster",
        # length alone: a long plain message
        "We would like to understand our invoice better. " * 20,
    ],
)
def test_medium(text: str):
    assert estimate(text) is MEDIUM


PYTHON_TRACE = """The import job dies:
Traceback (most recent call last):
  File "/srv/app/jobs.py", line 41, in run
    rows = load(path)
ValueError: bad header
"""
JAVA_TRACE = """Exception in thread "main" java.lang.NullPointerException
\tat com.acme.upload.Client.send(Client.java:88)
\tat com.acme.upload.Main.main(Main.java:12)"""
JS_TRACE = "TypeError: Cannot read properties of undefined\n    at render (app.js:10:5)"
GO_PANIC = "panic: runtime error: index out of range [3] with length 3"


@pytest.mark.parametrize(
    "text",
    [
        PYTHON_TRACE,
        JAVA_TRACE,
        JS_TRACE,
        GO_PANIC,
        "Caused by: java.io.IOException: Broken pipe",
        # code and an error code together
        "Calling it like this:\nclient.send(payload);\nI get HTTP 502 Bad Gateway.",
        # over ~1500 characters: complex by length alone
        "x" * 1600,
        # long-ish, several paragraphs and questions, and an error code
        ("We see intermittent failures. " * 10 + "\n\n") * 3 + "Why? What? How? Status 503.",
    ],
)
def test_complex(text: str):
    assert estimate(text) is COMPLEX


def test_length_bands():
    assert estimate("a" * 299) is SIMPLE
    assert estimate("a" * 799) is SIMPLE
    assert estimate("a" * 800) is MEDIUM
    assert estimate("a" * 1499) is MEDIUM
    assert estimate("a" * 1500) is COMPLEX


def test_signals_add_up():
    error = "It fails with HTTP 500."
    assert estimate(error) is MEDIUM
    # an error code in a message of a few hundred characters
    assert estimate(error + " Some more context about what we tried. " * 20) is COMPLEX
    # a short message with three questions is still simple; a longer one tips into medium
    questions = "Is it down? Is it us? What now?"
    assert estimate(questions) is SIMPLE
    assert estimate(questions + " More details." * 25) is MEDIUM


def test_a_signal_repeated_counts_once():
    assert estimate("HTTP 500, HTTP 502, HTTP 503, ERR_FAILED, E1234") is MEDIUM


# ------------------------------------------------------------------------------------------ EWMA


def test_ewma_first_observation_seeds_then_alpha_weights():
    eta = EwmaEta()
    assert eta.alpha == 0.3
    eta.observe(SIMPLE, 1.0)
    assert eta.per_item(SIMPLE) == 1.0
    eta.observe(SIMPLE, 2.0)
    first = 0.3 * 2.0 + (1 - 0.3) * 1.0
    assert eta.per_item(SIMPLE) == first
    assert first == pytest.approx(1.3)
    eta.observe(SIMPLE, 0.0)
    assert eta.per_item(SIMPLE) == 0.3 * 0.0 + (1 - 0.3) * first
    assert eta.per_item(SIMPLE) == pytest.approx(0.91)


def test_ewma_keeps_one_average_per_class_and_falls_back_to_their_mean():
    eta = EwmaEta(alpha=0.5)
    assert eta.per_item(SIMPLE) is None
    eta.observe(SIMPLE, 1.0)
    assert eta.per_item(COMPLEX) == 1.0  # only class known
    eta.observe(COMPLEX, 4.0)
    eta.observe(COMPLEX, 6.0)
    assert eta.per_item(SIMPLE) == 1.0
    assert eta.per_item(COMPLEX) == 5.0
    assert eta.per_item(MEDIUM) == 3.0  # mean of the known classes


def test_ewma_drops_nonsense_measurements():
    eta = EwmaEta()
    eta.observe(SIMPLE, 2.0)
    for bad in (-1.0, float("nan"), float("inf")):
        eta.observe(SIMPLE, bad)
    assert eta.per_item(SIMPLE) == 2.0
    with pytest.raises(ValueError):
        EwmaEta(alpha=0.0)
    with pytest.raises(ValueError):
        EwmaEta(alpha=1.5)


def test_eta():
    eta = EwmaEta()
    remaining = {SIMPLE: 100, MEDIUM: 10, COMPLEX: 4}
    assert eta.eta(remaining, concurrency=8) is None  # nothing observed yet
    eta.observe(SIMPLE, 0.5)
    eta.observe(COMPLEX, 2.5)
    # medium has no average yet: it borrows the mean of the others, (0.5 + 2.5) / 2 = 1.5
    assert eta.eta(remaining, concurrency=8) == (100 * 0.5 + 10 * 1.5 + 4 * 2.5) / 8
    assert eta.eta(remaining, concurrency=1) == 75.0
    assert eta.eta({SIMPLE: 0, COMPLEX: 0}, concurrency=4) == 0.0
    assert eta.eta({}, concurrency=4) == 0.0
    assert eta.eta({SIMPLE: 10}, concurrency=0) == 5.0  # no slots reported: count one
