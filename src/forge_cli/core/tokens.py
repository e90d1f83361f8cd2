"""Token estimates by script, for budgets, pacing and costs before a provider says the real count.

Characters per token differ several-fold between scripts: English runs about 4 characters to a
token, Russian about 2, Chinese, Japanese, Greek and Hebrew about 1, so "characters / 4" made a
Chinese pack look four times cheaper than it is and let the tokens-per-minute pacing overrun the
provider's limit. The estimate counts characters in four classes, each with its own weight:

- ASCII: 0.25 token per character;
- Cyrillic (what cp1251 encodes beyond ASCII): 0.6;
- other two-byte UTF-8 characters (accented Latin, Greek, Hebrew, Arabic, Armenian): 1.0;
- three- and four-byte UTF-8 characters (CJK, kana, Hangul, Thai, Indic scripts, emoji): 1.2.

The weights come from a least-squares fit against OpenAI's cl100k_base tokenizer on generated text
in fourteen languages (``benchmarks/token_estimates.py`` measures them again); other providers'
tokenizers differ, which the run corrects from the usage they report (``engine/calibration.py``).

Counting is done with codecs, which run in C: an ASCII text costs one ``isascii`` check, any other a
few encodes of the text (a few microseconds for a ticket), never a Python loop over characters.
"""

from __future__ import annotations

ASCII_WEIGHT = 0.25
CYRILLIC_WEIGHT = 0.6
NARROW_WEIGHT = 1.0
WIDE_WEIGHT = 1.2


def estimate_tokens(text: str) -> int:
    """An estimate of ``text``'s token count, by script (see the module's notes)."""
    length = len(text)
    if text.isascii():
        return length // 4 + 1
    ascii_chars = len(text.encode("ascii", "ignore"))
    other = length - ascii_chars
    # UTF-8 spends one extra byte on a two-byte character and two on a three-byte one: from the
    # extra bytes and the count of non-ASCII characters, how many of each (a four-byte character
    # counts as a wide one and a half, close enough for the rare emoji)
    extra = len(text.encode("utf-8", "surrogatepass")) - length
    wide = extra - other if extra > other else 0
    narrow = other - wide
    cyrillic = 0
    if narrow > 0:
        cyrillic = min(narrow, len(text.encode("cp1251", "ignore")) - ascii_chars)
    estimate = (
        ascii_chars * ASCII_WEIGHT
        + cyrillic * CYRILLIC_WEIGHT
        + (narrow - cyrillic) * NARROW_WEIGHT
        + wide * WIDE_WEIGHT
    )
    return int(estimate) + 1
