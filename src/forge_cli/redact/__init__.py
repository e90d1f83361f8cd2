"""Secret and PII redaction: nothing sensitive leaves the machine.

Every text forge sends (a staged diff, a support ticket) passes through :func:`redact` first. Each
secret is replaced by a typed marker such as ``[REDACTED:github_token]`` so the model still knows
*that* a credential was there, and of which kind, without ever seeing it.

This module is the public API; the work is done by detectors grouped by family, each a function
``(text, lower, claims)`` that claims spans (``spans``): ``pem`` (private key blocks), ``tokens``
(provider prefixes, JWTs), ``vendors`` (a hundred vendors' token formats from ``vendor_table``,
tokens of unknown vendors written the way vendors write them, and forms known by their shape:
Azure AD client secrets, Telegram, Mailchimp, password hashes ...), ``urls`` (URL credentials,
webhook URLs, connection strings), ``assignments`` (values of secret-named keys, judged by
``named``), ``documents`` (a name and its value apart: Kubernetes ``Secret`` data, name/value
pairs, Terraform variable defaults, passwords after a user on a command line), ``phrases``
(``Authorization:``, SQL, netrc, ``curl -u``, "the password is 'x'"), ``nearby`` (a machine-made
value right after a credential word in any syntax: ``vendor SECRET <token>``) and ``pii``. ``keys`` judges
key names, ``values`` candidate values, ``words`` holds their word tables, and ``redaction`` runs
the detectors in order and builds the result.

Why it is built this way:

* It is imported inside a ``prepare-commit-msg`` hook whose whole process must finish in 400 ms, so
  it is stdlib only and import does nothing but compile regexes (7 ms measured, see below). A
  200-line diff has a budget of 2 ms.
* Python's ``re`` scans fast only when a pattern starts with a literal or a character class; one
  that starts with a look-behind or an alternation of words is tried at every position. So every
  detector is gated by a plain substring test (``"ghp_" in text`` costs nanoseconds), token
  patterns start with their literal prefix and check the character before the match in Python, and
  the key-driven forms (``password = ...``) start from each occurrence of a key word, judge the
  identifier around it by name (most are ``key``, ``tokens``, ``password_hash``: rejected at once)
  and match what may follow it right there. No pattern walks a whole line position by position,
  and none is quadratic on hostile input (``eyJeyJeyJ...`` is one run, split in Python).
* Evidence comes in two strengths. A provider prefix (``AKIA``, ``ghp_``, ``sk-ant-``, a PEM
  header) is nearly proof, so those only skip values that are plainly masked (``xxxx``,
  ``EXAMPLE``, ``<...>``). A key name (``password``, ``client_secret``) is weak evidence, so the
  value must look like a literal too: references (``${DB_PASSWORD}``, ``{{ secret }}``,
  ``os.environ[...]``, ``process.env.X``, ``$(cat file)``, an ARN), code (``get_password()``,
  ``self.password``, a bare identifier after `` = ``), types (``password: str``), names made of key
  words (``"FORCE_CHANGE_PASSWORD"``), prose (``"Mot de passe"``), paths, regexes, empty and masked
  values all survive. Tokens and keys are machine-made, so a value after a ``token``/``key`` name
  must also mix letters and digits (or be long and mixed-case): ``token == "keyword"`` in a parser
  is not a credential. Any plausible literal after a ``password`` name counts.
* Dummies, decided: a value that is exactly a placeholder word (``changeme``, ``password``,
  ``secret``, ``test``, ``example``, ``none`` ...) or made only of such words and up to three digits
  (``testpass123``, ``password1``, ``dummy-token``) survives: it protects nothing and the model should
  see that a config holds only a placeholder. Anything else is redacted, weak real passwords
  included (``hunter2``, ``Winter2026``, ``password123!``, ``postgres``): a false positive costs the
  model a word, a false negative leaks a credential. Masks survive even after a provider prefix
  (``AKIAXXXXXXXXXXXXXXXX``, ``hf_xxxx...``, ``sgp_5555555dAAAAA...``), and so do values typed as
  examples (twelve letters of the alphabet in a row). The AWS documentation keys
  (``AKIAIOSFODNN7EXAMPLE`` and its secret) survive on purpose (issue 10 asked to decide): they
  authenticate nothing, gitleaks allowlists them, and the model should see that a config holds
  the documentation value; any other key of that shape is redacted.
* A quoted value of a few plain words after a password name is a passphrase and goes
  (``SMTP_PASSWORD="my mail pass"``); one that reads as a UI string stays (``"Enter your
  password"``, ``"Mot de passe"``, a sentence ending in punctuation).
* The strongest detector wins. Detectors run from the most specific (PEM blocks, JWTs, provider
  tokens) to the most generic (``key = value``, then PII); a span overlapping one already claimed is
  dropped, so ``GITHUB_TOKEN=ghp_...`` is reported as ``github_token`` and a token inside a URL is
  redacted once.
* Only the value goes: key names, URL schemes, users and hosts stay, because they are what the
  model needs to describe the change ("rotate the database password").
* Idempotent: existing ``[REDACTED:...]`` markers are claimed before anything runs, and the lines
  around a new marker whose neighbour could glue onto a secret (``glpat-...-----BEGIN``) are scanned
  once more, so the output is a fixed point: redacting it again finds nothing.
* Diffs: the line forms accept a leading ``+``, ``-`` or space; a PEM block whose lines all carry a
  marker is still one block, replaced by one marker; removed lines are redacted too (an old secret
  is still a secret).
* Findings carry the type, the 1-based line and column in the original text (columns count
  characters, a tab is one) and the length replaced; never the value, so they can be shown.

Measured with ``python benchmarks/redaction_quality.py`` (Python 3.11, 2 shared cores; the
tables and what was seen while tuning are in benchmarks/README.md). On other secret scanners' own
rule tests (rebuilt from fetched snapshots by ``tests/data/secrets/external``): recall 0.958 on
the 1,068 positives of the part the detectors were tuned on (false positives 0.046 of 217), 0.956
on the old held-out part (0.032 of 186; looked at since), 0.698 on Kingfisher's 1,123 rule
examples (tuned on in round 3; 263 of its misses are values typed as examples, kept on purpose)
and **0.855 on the part held out now**, Semgrep's secret rules' tests (297 positives; false
positives 2 of 61): the same as before round 3, whose ``nearby`` detector did not move it. On
forge's own corpus (``tests/data/secrets/make_corpus.py``, written alongside the detectors)
recall stays 1.000 and false positives 0.000. A typical 200-line diff takes 1.3-2 ms on a busy
machine, no slower than before round 3 within the noise (the ``nearby`` detector: +4-9% in one
process). Text that holds no secrets: 30 MB of installed packages' sources and docs give 550
findings (549 before round 3), 164 MB of system packages and docs 51 (48).

Known limits: an unquoted passphrase after ``key:`` reads as prose and survives; a bare
identifier after a spaced ``=`` (``password = letmein``) reads as code; a secret with no key,
known prefix, shape or URL around it (a bare hex string in prose, ``cloudflare: "<hex>"`` under a
vendor's name) is not found; a key name in another language's word for password is not known;
tokens of vendors not in ``vendor_table`` are found only when written as vendors write them (a
short prefix, then a long random body; lower-case hex after an unknown prefix, ``bkua_<hex>``, is
not taken, since ids such as ``jr_<hex64>`` share the shape); a value after a credential word
(``nearby``) needs 16+ characters with letters and digits, so a short or digits-only one, or one
typed as an example (``abcdef1234567890``), survives; ids (``client_id``) are kept. Phones are found by their layout (``+`` and a country
code, ``(415) 555-0134``, ``415-555-0134``, a national ``0`` prefix), so an unformatted national
number survives; cards need a known issuer prefix and a valid Luhn digit.
"""

from __future__ import annotations

from forge_cli.redact.redaction import (
    PII_TYPES,
    SECRET_TYPES,
    Finding,
    Redacted,
    describe,
    redact,
)

__all__ = ["PII_TYPES", "SECRET_TYPES", "Finding", "Redacted", "describe", "redact"]
