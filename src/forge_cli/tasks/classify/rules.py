"""Built-in offline ticket classifier: weighted keywords and phrases, no model, no network.

Why it exists: forge needs an answer for every ticket even with no provider configured (the offline
provider, tests, benchmarks, dry runs), and the engine's own overhead is measured by running this
classifier on 100,000-ticket inputs where the whole pipeline must reach 10,000 tickets/s. It is an
honest *baseline*: it shows what simple cues get right, so an LLM provider has a bar to beat. It is
not meant to compete with one; see ``benchmarks/offline_accuracy.py`` for its measured accuracy,
including on a held-out set that the tables below were not tuned on.

Why it is built this way (speed): it runs on every ticket of the offline benchmarks, so it must cost
well under the 100 µs per ticket that 10,000 tickets/s leaves the whole pipeline. The text is
lower-cased and tokenised once, in C (``bytes.translate`` + ``split``; see ``_tokens`` for why not a
regex). All cues, single words and multi-word phrases, live in one token trie built at import, so
the per-call work is one C-level dict lookup per token plus Python work only for the tokens that
start a cue. Nothing is compiled per call and no phrase is searched with ``in``. Tickets longer
than 3,600 characters are scored on their head and tail only (the question is at the top, the
sign-off at the bottom, the pasted log in between), so the time per ticket is bounded.
Measured with timeit, best of 7 (CPython 3.11.7 in the shared 2-vCPU dev container, 2026-11):
12 µs per call for a typical 300-character ASCII ticket, 15 µs when it contains a non-ASCII
character, 5 µs for a one-liner, 90 µs for a 37,000-character pasted log; 11 µs mean over all the
samples. ``benchmarks/offline_accuracy.py`` prints the current figures.

Why the scores look like this: every cue adds a weight to one or more labels (a few are negative,
e.g. "internal server error" takes weight away from hardware's "server"); the label with the highest
total wins and ``confidence`` is its share of the positive total, so two labels neck and neck give
about 0.5, and no cue at all gives 0.0 with the fallback label. Priority comes from separate urgency
cues: outage / production down / all users / data loss / security / ASAP / urgent give "urgent";
being blocked, crashes and errors push towards "high"; how-to questions, feature requests and thanks
push towards "low"; everything else is "medium".

Custom label sets: a label that is one of the default names keeps its cue table (that is what a
user means by "billing"); any other label is scored by the words of its name (split on ``_``, ``-``
and spaces) and simple inflections of them found in the text. No evidence or a tie goes to
"other" when the set has it, else to the last label, so the answer is always a member of the set.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from itertools import compress
from typing import Any, cast

DEFAULT_CATEGORIES: tuple[str, ...] = (
    "hardware_issue",
    "software_issue",
    "model_quality",
    "billing",
    "other",
)
PRIORITIES: tuple[str, ...] = ("low", "medium", "high", "urgent")

__all__ = ["DEFAULT_CATEGORIES", "PRIORITIES", "Verdict", "classify"]


@dataclass(frozen=True, slots=True)
class Verdict:
    """The offline answer for one ticket, in the same shape an LLM answer is validated into."""

    category: str
    priority: str
    summary: str
    confidence: float  # 0..1, honest: share of the winning score


# --------------------------------------------------------------------------- cue tables
# Keys are space-separated lower-case token sequences (as the tokeniser produces them). A trailing
# "*" adds simple inflections (s, es, ed, ing, ...) so the tables stay readable. Weights: 1 = weak
# hint, 2 = typical, 3 = nearly decisive; negative weights are counter-cues.

HW, SW, MQ, BI, OT = range(5)

_CATEGORY_CUES: dict[int, dict[str, float]] = {
    HW: {
        "hardware": 2.5,
        "gpu": 1.0,
        "gpus": 1.0,
        "overheat*": 3.0,
        "overheats": 3.0,
        "thermal": 2.0,
        "throttl*": 2.0,
        "temperature": 2.0,
        "temperatures": 2.0,
        "temps": 1.5,
        "hot": 1.5,
        "hotter": 2.0,
        "heat": 1.5,
        "fan": 3.0,
        "fans": 3.0,
        "psu": 3.0,
        "psus": 3.0,
        "power supply": 3.0,
        "power supplies": 3.0,
        "dimm": 3.0,
        "dimms": 3.0,
        "ram": 1.5,
        "ecc": 2.5,
        "xid": 3.0,
        "nvlink": 3.0,
        "pcie": 2.0,
        "lspci": 3.0,
        "riser": 3.0,
        "backplane": 3.0,
        "motherboard": 3.0,
        "mainboard": 3.0,
        "chassis": 3.0,
        "rack": 1.5,
        "rails": 2.5,
        "rail kit": 3.0,
        "fallen off the bus": 3.0,
        "nvidia smi": 1.5,
        "smartctl": 3.0,
        "raid": 2.0,
        "disk*": 2.0,
        "drive*": 1.0,
        "ssd": 2.0,
        "nvme": 2.0,
        "reallocated sectors": 3.0,
        "sector*": 1.5,
        "o error": 2.0,  # "I/O error"; keyed without the common "i"
        "read only": 1.5,
        "bios": 2.0,
        "bmc": 2.0,
        "ipmi": 2.5,
        "post": 0.3,
        "doesn't post": 3.0,
        "does not post": 3.0,
        "won't post": 3.0,
        "beep*": 2.5,
        "boot": 1.0,
        "won't boot": 2.0,
        "doesn't boot": 2.0,
        "power on": 1.5,
        "powers on": 1.0,
        "power off": 1.5,
        "powers off": 2.0,
        "shuts down": 1.5,
        "shuts itself off": 2.0,
        "power cycle": 1.5,
        "power event": 2.0,
        "cable": 2.0,
        "cables": 2.0,
        "connector": 2.5,
        "connectors": 2.5,
        "cord*": 2.0,
        "hdmi": 3.0,
        "usb": 1.5,
        "port": 1.0,
        "nic": 2.0,
        "ethernet": 1.5,
        "link light": 2.0,
        "link down": 2.0,
        "no link": 2.0,
        "battery": 3.0,
        "swollen": 3.0,
        "bulging": 3.0,
        "charging": 1.0,
        "doesn't charge": 3.0,
        "won't charge": 3.0,
        "screen": 1.0,
        "display": 1.0,
        "touchscreen": 3.0,
        "pixel*": 2.0,
        "cracked": 3.0,
        "crushed": 2.0,
        "bent": 2.0,
        "dented": 2.0,
        "damaged": 2.0,
        "snapped": 2.0,
        "arrived": 1.0,
        "packaging": 1.5,
        "shipping box": 2.0,
        "replacement": 1.5,
        "replace": 1.0,
        "swap*": 1.0,
        "swapped": 1.0,
        "reseat*": 2.5,
        "rma": 2.5,
        "warranty": 2.0,
        "technician": 2.0,
        "noise": 2.0,
        "noisy": 2.0,
        "loud": 2.0,
        "rattl*": 2.0,
        "grinding": 2.0,
        "clicking": 2.0,
        "coil whine": 3.0,
        "smoke": 3.0,
        "smell": 2.0,
        "burning": 2.0,
        "server": 0.7,
        "servers": 0.7,
        "appliance": 2.0,
        "device": 1.0,
        "devices": 1.0,
        "unit": 1.5,
        "units": 1.0,
        "handheld": 2.0,
        "kiosk": 1.5,
        "dev kit": 1.5,
        "edge device": 1.0,
        "forge edge": 1.5,
        "edge box": 1.5,
        "camera": 1.5,
        "lens": 2.0,
        "microphone*": 2.0,
        "mic": 1.5,
        "led": 1.5,
        "leds": 1.5,
        "blink*": 1.0,
        "not detected": 2.0,
        "sn": 1.0,
        "serial": 1.0,
        "physically": 1.5,
        # de / es / fr
        "lüfter": 3.0,
        "netzteil": 3.0,
        "netzteile": 3.0,
        "startet nicht": 2.0,
        "gpu server": 1.0,
        "calienta": 3.0,
        "apaga": 2.0,
        "dispositivo": 1.0,
        "ventilateur": 3.0,
        "bruit": 2.0,
        "température": 2.0,
        "temperatura": 2.0,
        "serveur": 1.0,
        "technicien": 2.0,
    },
    SW: {
        "software": 2.0,
        "bug": 2.0,
        "bugs": 2.0,
        "error": 1.0,
        "errors": 0.7,
        "crash*": 2.0,
        "exception": 2.0,
        "traceback": 3.0,
        "stack trace": 3.0,
        "nullpointerexception": 3.0,
        "typeerror": 3.0,
        "attributeerror": 3.0,
        "importerror": 3.0,
        "modulenotfounderror": 3.0,
        "validationerror": 3.0,
        "memoryerror": 3.0,
        "sslerror": 3.0,
        "sockettimeoutexception": 3.0,
        "connectionreseterror": 3.0,
        "segmentation fault": 3.0,
        "segfault*": 3.0,
        "core dumped": 2.0,
        "panic": 1.5,
        "nil pointer": 3.0,
        "crashloopbackoff": 3.0,
        "exc_bad_access": 3.0,
        "bad access": 2.0,
        "sdk": 3.0,
        "api": 1.5,
        "endpoint": 1.5,
        "endpoints": 1.0,
        "http": 1.5,
        "https": 0.5,
        "400": 1.0,
        "401": 2.0,
        "403": 2.0,
        "404": 1.0,
        "413": 2.0,
        "429": 1.5,
        "500": 1.5,
        "502": 2.0,
        "503": 2.0,
        "504": 2.0,
        "bad gateway": 3.0,
        "service unavailable": 3.0,
        "internal server error": 3.0,
        "gateway timeout": 2.0,
        "gateway time out": 2.0,
        "timeout": 1.5,
        "timeouts": 1.5,
        "timed out": 1.5,
        "times out": 1.5,
        "connection reset": 2.0,
        "econnreset": 3.0,
        "err": 1.5,
        "unauthorized": 1.5,
        "unavailable": 1.0,
        "cors": 3.0,
        "proxy": 2.0,
        "ssl": 2.0,
        "tls": 2.0,
        "handshake": 2.0,
        "header": 1.5,
        "headers": 1.5,
        "pagination": 3.0,
        "page": 0.7,
        "rate limit": 1.0,
        "ratelimit": 2.5,
        "rate limiter": 2.5,
        "latency": 2.0,
        "p99": 2.0,
        "dashboard": 1.0,
        "app": 1.5,
        "apps": 1.0,
        "application": 1.0,
        "desktop app": 1.5,
        "mobile app": 1.5,
        "companion app": 1.5,
        "ios": 2.0,
        "android": 2.0,
        "macos": 1.5,
        "windows": 1.0,
        "browser": 1.5,
        "chrome": 1.5,
        "firefox": 1.5,
        "safari": 1.5,
        "playground": 1.5,
        "console": 1.0,
        "login": 1.0,
        "log in": 1.0,
        "logs me out": 2.0,
        "logs them out": 2.0,
        "session expired": 2.0,
        "redirect loop": 3.0,
        "sso": 1.0,
        "cli": 2.5,
        "command": 1.0,
        "install": 1.5,
        "installer": 2.5,
        "installers": 2.0,
        "pip install": 2.0,
        "upgrad*": 1.0,
        "update": 0.5,
        "updating": 0.5,
        "version": 0.5,
        "release": 0.5,
        "changelog": 2.0,
        "docker": 2.5,
        "container": 2.0,
        "image": 0.5,
        "kubernetes": 2.5,
        "helm": 2.5,
        "pod": 2.0,
        "terraform": 2.5,
        "integration": 1.5,
        "webhook*": 2.5,
        "slack": 1.5,
        "zapier": 2.0,
        "s3": 1.5,
        "json": 1.0,
        "csv": 1.0,
        "export": 1.0,
        "upload*": 1.5,
        "download": 1.0,
        "button": 1.5,
        "blank": 1.5,
        "spinner": 2.0,
        "something went wrong": 2.5,
        "python": 1.5,
        "java": 2.0,
        "javascript": 2.0,
        "node sdk": 2.0,
        "import": 1.0,
        "module": 1.5,
        "package": 1.0,
        "library": 1.0,
        "client": 1.5,
        "async": 2.0,
        "asyncclient": 3.0,
        "event loop": 2.5,
        "grpc": 2.5,
        "stream": 1.0,
        "streaming": 1.5,
        "request": 0.5,
        "requests": 0.5,
        "returns": 1.0,
        "returning": 1.0,
        "fails": 1.0,
        "failing": 1.0,
        "failed": 0.5,
        "broken": 1.0,
        "hangs": 2.0,
        "freezes": 2.0,
        "stuck": 1.0,
        "encoding": 2.0,
        "utf": 2.0,
        "unicode": 1.5,
        "garbled": 1.5,
        "corrupted": 1.0,
        "extension": 2.0,
        "plugin": 2.0,
        "vs code": 1.5,
        "jupyter": 2.0,
        "mypy": 2.0,
        "type hints": 2.0,
        "deployment": 1.5,
        "deploy": 1.5,
        "provisioning": 2.0,
        "scheduler": 2.0,
        "scheduled": 1.0,
        "workaround": 1.0,
        "reproduce": 1.0,
        "duplicate jobs": 2.0,
        "retry": 1.0,
        "retries": 1.0,
        "retrying": 1.0,
        "parser": 1.5,
        "memory leak": 3.0,
        "out of memory": 1.5,
        "insufficientdriver": 2.0,
        "cudaerrorinsufficientdriver": 3.0,
        "exec format error": 3.0,
        "arm64": 1.5,
        "zip": 1.0,
        "status page": 1.0,
        "regenerate": 1.0,
        "search": 0.5,
        "filter*": 1.0,
        "firmware updater": 2.0,
        # de / es / fr
        "fehler": 1.5,
        "fehlermeldung": 2.0,
        "lädt": 1.5,
        "devuelve": 1.5,
        "erreur": 1.5,
        "plante": 2.0,
        "page blanche": 2.5,
        "aplicación": 1.5,
        "l'application": 1.5,
    },
    MQ: {
        "model": 1.5,
        "models": 1.0,
        "model's": 1.5,
        "model update": 2.0,
        "model version": 1.0,
        "answer*": 2.0,
        "replies": 1.5,
        "responds": 1.5,
        "respond": 1.0,
        "hallucinat*": 4.0,
        "making up": 3.0,
        "makes up": 3.0,
        "made up": 3.0,
        "make up": 2.0,
        "invent*": 3.0,
        "invents": 3.0,
        "don't exist": 1.5,
        "doesn't exist": 1.5,
        "not in the": 1.5,
        "nowhere in": 2.0,
        "wrong": 1.0,
        "incorrect": 1.5,
        "inaccurate": 2.0,
        "accuracy": 2.5,
        "accurate": 2.0,
        "precision": 2.0,
        "recall": 2.0,
        "f1": 2.0,
        "ndcg": 3.0,
        "word error rate": 3.0,
        "eval": 2.0,
        "evaluation": 1.5,
        "benchmark*": 1.5,
        "mmlu": 3.0,
        "metric*": 1.5,
        "bias": 3.0,
        "biased": 3.0,
        "toxic": 3.0,
        "offensive": 2.0,
        "insulted": 2.5,
        "harmful": 2.0,
        "dangerous": 1.5,
        "safety filter*": 3.0,
        "refus*": 3.0,
        "false positives": 1.5,
        "summary": 2.0,
        "summaries": 2.0,
        "summaris*": 2.0,
        "summariz*": 2.0,
        "summarisation": 2.0,
        "summarization": 2.0,
        "translat*": 2.5,
        "transcri*": 2.5,
        "transcribe*": 2.5,
        "transcription": 2.5,
        "speech to text": 2.5,
        "ocr": 2.5,
        "ner": 2.5,
        "sentiment": 2.5,
        "classifier": 1.5,
        "labels": 1.0,
        "mislabel*": 3.0,
        "embedding model": 2.0,
        "cosine similarity": 3.0,
        "similarity": 1.5,
        "relevance": 2.5,
        "ranking": 1.5,
        "reranker": 2.0,
        "quality": 2.5,
        "degraded": 2.0,
        "worse": 2.0,
        "regress*": 1.5,
        "dropped": 1.0,
        "prompt": 2.0,
        "prompts": 2.0,
        "system prompt": 2.0,
        "temperature 0": 4.0,
        "same temperature": 4.0,
        "temperature is 0": 4.0,
        "fine tuned model": 2.0,
        "base model": 2.0,
        "chatbot": 2.0,
        "bot": 1.5,
        "assistant": 1.5,
        "ai": 0.5,
        "generated": 1.5,
        "generation": 1.0,
        "output": 1.0,
        "outputs": 1.5,
        "facts": 2.0,
        "citations": 3.0,
        "references": 0.5,
        "dois": 2.0,
        "sources": 1.0,
        "outdated": 2.0,
        "confident*": 2.0,
        "plausible": 2.0,
        "nonsense": 2.0,
        "gibberish": 1.5,
        "repeats": 1.5,
        "loop": 0.5,
        "language": 1.0,
        "english": 1.0,
        "accents": 2.0,
        "accent": 2.0,
        "idiom*": 2.0,
        "literally": 1.0,
        "context": 1.5,
        "retrieved": 2.0,
        "instructions": 1.5,
        "ignores": 1.5,
        "inconsistent": 1.5,
        "deterministic": 1.5,
        "same prompt": 3.0,
        "math": 1.5,
        "multiplication": 2.0,
        "dumb": 2.0,
        "fingers": 2.0,
        "misunderstand*": 2.0,
        "understand": 1.0,
        # es / de / fr
        "alucinaciones": 4.0,
        "inventa": 3.0,
        "modelo": 1.5,
        "respuestas": 2.0,
        "antworten": 2.0,
        "modell": 1.5,
        "modells": 1.5,
        "schlechter": 2.0,
        "falsch": 1.5,
        "modèle": 1.5,
        "réponses": 2.0,
        "calidad": 2.0,
        "qualité": 2.0,
        "qualität": 2.0,
    },
    BI: {
        "bill": 3.0,
        "billed": 3.0,
        "billing": 3.0,
        "invoice*": 3.0,
        "invoiced": 3.0,
        "charge": 2.0,
        "charged": 3.0,
        "charges": 2.5,
        "refund*": 3.0,
        "payment*": 2.5,
        "paid": 2.0,
        "pay": 1.5,
        "paying": 1.0,
        "subscription*": 2.5,
        "plan": 1.5,
        "plans": 1.0,
        "downgrad*": 2.0,
        "upgrade": 0.5,
        "cancel": 1.0,
        "renewal": 2.0,
        "renewed": 2.0,
        "renew": 2.0,
        "trial": 1.5,
        "price": 2.0,
        "pricing": 1.5,
        "vat": 3.0,
        "tax": 2.5,
        "receipt*": 3.0,
        "credit card": 3.0,
        "company card": 3.0,
        "corporate cards": 3.0,
        "card declined": 3.0,
        "declined": 2.0,
        "overage": 3.0,
        "proration": 3.0,
        "prorat*": 3.0,
        "credit": 1.5,
        "credited": 2.5,
        "credits": 1.5,
        "credit note": 3.0,
        "coupon": 3.0,
        "promo code": 3.0,
        "discount": 2.0,
        "chargeback": 3.0,
        "wire transfer": 3.0,
        "bank": 1.5,
        "direct debit": 3.0,
        "purchase order": 2.0,
        "payment terms": 3.0,
        "seats": 2.0,
        "fee": 2.5,
        "fees": 2.5,
        "money": 2.0,
        "overdue": 3.0,
        "unpaid": 3.0,
        "currency": 3.0,
        "usd": 2.0,
        "eur": 2.0,
        "expenses": 1.5,
        "finance": 1.5,
        "accounts payable": 3.0,
        "accounting": 2.0,
        "lease": 2.0,
        "monthly": 1.0,
        "annual": 1.5,
        "usage": 0.5,
        "reservation": 1.5,
        "gpu reservation": 2.0,
        "gpu hours": 2.0,
        "cost": 1.0,
        "cost centres": 2.0,
        "unauthorized charges": 3.0,
        # es / de / fr
        "cobraron": 4.0,
        "cobro": 3.0,
        "cargo": 2.0,
        "factura": 3.0,
        "suscripción": 3.0,
        "reembolso": 3.0,
        "devuélvanme": 2.0,
        "tarjeta": 2.0,
        "rechnung": 3.0,
        "rechnungsadresse": 3.0,
        "zahlung": 3.0,
        "abonnement": 2.5,
        "facture": 3.0,
        "remboursement": 3.0,
        "paiement": 2.5,
    },
    OT: {
        "feature request": 4.0,
        "feature idea": 3.0,
        "feature": 1.0,
        "would be nice": 3.0,
        "would be great": 3.0,
        "please add": 2.0,
        "add support": 2.0,
        "roadmap": 3.0,
        "plans to": 1.0,
        "any plans": 2.0,
        "demo": 3.0,
        "sales": 2.0,
        "quote": 2.0,
        "partnership": 3.0,
        "partner": 2.5,
        "reseller": 3.0,
        "thank": 1.0,
        "thanks": 0.5,
        "thank you": 1.0,
        "love": 1.0,
        "great product": 2.0,
        "keep it up": 2.0,
        "saved": 1.0,
        "unsubscribe*": 3.0,
        "newsletter": 3.0,
        "marketing": 2.0,
        "seo": 3.0,
        "backlinks": 3.0,
        "inheritance": 3.0,
        "prize": 3.0,
        "click here": 3.0,
        "cv": 3.0,
        "hiring": 3.0,
        "careers": 3.0,
        "opportunities": 2.0,
        "interview": 2.5,
        "journalist": 3.0,
        "reporter": 3.0,
        "meetup": 3.0,
        "conference": 2.5,
        "sponsor*": 3.0,
        "sponsorship": 3.0,
        "stickers": 3.0,
        "swag": 3.0,
        "account": 1.0,
        "password": 1.5,
        "forgot": 2.0,
        "locked": 1.5,
        "unlock": 2.0,
        "invite": 2.0,
        "team members": 2.0,
        "colleague": 1.5,
        "ownership": 2.5,
        "owner": 1.5,
        "admin": 1.0,
        "rename": 2.0,
        "organisation": 1.5,
        "organization": 1.5,
        "gdpr": 3.0,
        "delete my account": 3.0,
        "personal data": 2.0,
        "data protection": 2.0,
        "dpa": 3.0,
        "soc": 3.0,
        "iso": 2.5,
        "hipaa": 3.0,
        "compliance": 1.0,
        "questionnaire": 3.0,
        "certified": 2.0,
        "air gapped": 2.0,
        "premises": 2.0,
        "prem": 2.0,
        "documentation": 1.5,
        "docs": 0.5,
        "where can i": 2.0,
        "is there": 1.0,
        "do you": 1.5,
        "do you have": 1.0,
        "do you offer": 1.5,
        "how do i": 1.5,
        "how can i": 1.5,
        "how do we": 1.0,
        "can i": 1.0,
        "can we": 1.0,
        "question": 1.0,
        "quick question": 2.0,
        "interested": 1.5,
        "sla": 2.0,
        "uptime": 1.0,
        "license": 2.5,
        "licensing": 2.5,
        "commercial": 1.5,
        "region": 1.5,
        "stored": 1.0,
        "training data": 1.5,
        "model card": 3.0,
        "case studies": 3.0,
        "bug bounty": 4.0,
        "disclosure": 2.0,
        "security researcher": 3.0,
        "vendor": 1.5,
        "supplier": 2.0,
        "procurement": 1.0,
        "onboarding": 2.0,
        "getting started": 2.0,
        "get started": 2.0,
        "training sessions": 3.0,
        "referral": 3.0,
        "lead time": 2.0,
        "lead times": 2.0,
        "moving offices": 3.0,
        "shipping address": 2.0,
        "screen reader*": 3.0,
        "accessibility": 3.0,
        "dark mode": 3.0,
        "jira": 2.0,
        "zendesk": 2.0,
        "audit log": 1.5,
        "support hours": 3.0,
        "response time": 2.0,
        "no answer": 1.0,
        "anyone there": 3.0,
        "account manager": 2.0,
        "test": 0.5,
        "call back": 1.5,
        # es / de / fr
        "produktdemo": 3.0,
        "vereinbaren": 2.0,
        "soporte": 1.5,
        "español": 1.0,
        "documentación": 2.0,
        "merci": 1.0,
        "merci beaucoup": 2.0,
    },
}

# Counter-cues: phrases whose words would otherwise vote for the wrong label.
_COUNTER_CUES: dict[str, dict[int, float]] = {
    "internal server error": {HW: -0.7},
    "server error": {HW: -0.7},
    "temperature 0": {HW: -2.0},
    "same temperature": {HW: -2.0},
    "temperature is 0": {HW: -2.0},
    "model card": {MQ: -1.5},
    "gpu reservation": {HW: -1.0},
    "gpu hours": {HW: -1.0},
    "graphics card": {HW: 2.0},
    "gpu card": {HW: 2.0},
    "unauthorized charges": {SW: -1.5},
    "feature request": {SW: -1.0},
    "memory leak": {HW: -1.5},
    "doesn't charge": {BI: -2.0},
    "won't charge": {BI: -2.0},
    "integration request": {SW: -1.5, OT: 2.0},
    "fine tuning job": {SW: 1.5},
    "job notifications": {SW: 1.0},
}

# Priority cues: (urgent points, high/low points). Urgent wins at >= 3; the second number moves the
# ticket towards high (positive) or low (negative).
_PRIORITY_CUES: dict[str, tuple[float, float]] = {
    "urgent": (3.0, 0.0),
    "urgently": (3.0, 0.0),
    "asap": (3.0, 0.0),
    "emergency": (3.0, 0.0),
    "outage": (2.0, 1.0),
    "production is down": (3.0, 0.0),
    "production down": (3.0, 0.0),
    "prod down": (3.0, 0.0),
    "production inference": (1.0, 1.0),
    "all users": (3.0, 0.0),
    "all of our users": (3.0, 0.0),
    "all our users": (3.0, 0.0),
    "all customers": (3.0, 0.0),
    "all requests": (1.5, 1.0),
    "all of our customer": (2.0, 1.0),
    "data loss": (3.0, 0.0),
    "lost data": (3.0, 0.0),
    "losing everything": (3.0, 0.0),
    "already lost": (3.0, 0.0),
    "data leak": (3.0, 0.0),
    "security issue": (3.0, 0.0),
    "security incident": (3.0, 0.0),
    "breach": (3.0, 0.0),
    "smoke": (3.0, 0.0),
    "fire": (3.0, 0.0),
    "caught fire": (3.0, 0.0),
    "swollen": (3.0, 0.0),
    "escalate": (1.5, 1.0),
    "immediately": (1.0, 1.0),
    "right away": (1.0, 1.0),
    "critical": (1.0, 1.0),
    "dringend": (3.0, 0.0),
    "urgente": (3.0, 0.0),
    "is gone": (1.5, 1.0),
    "is down": (2.0, 1.0),
    "went down": (2.0, 1.0),
    # something is broken or someone is blocked -> towards high
    "blocked": (0.0, 2.0),
    "blocks": (0.0, 2.0),
    "blocking": (0.0, 2.0),
    "cannot": (0.0, 1.0),
    "can't": (0.0, 1.0),
    "can not": (0.0, 1.0),
    "unable": (0.0, 1.0),
    "can't work": (0.0, 1.0),
    "crash*": (0.0, 1.5),
    "segfault*": (0.0, 1.5),
    "segmentation fault": (0.0, 1.5),
    "traceback": (0.0, 1.0),
    "error": (0.0, 0.5),
    "fails": (0.0, 1.0),
    "failing": (0.0, 1.0),
    "failed": (0.0, 0.5),
    "fails to start": (0.0, 1.0),
    "won't start": (0.0, 1.5),
    "no longer": (0.0, 1.0),
    "not working": (0.0, 1.5),
    "stopped working": (0.0, 1.5),
    "doesn't work": (0.0, 1.0),
    "broken": (0.0, 1.0),
    "hangs": (0.0, 1.5),
    "never returns": (0.0, 1.0),
    "never finish": (0.0, 1.0),
    "stuck": (0.0, 1.0),
    "dead": (0.0, 2.0),
    "won't": (0.0, 0.5),
    "won't boot": (0.0, 1.0),
    "doesn't post": (0.0, 1.5),
    "doesn't power on": (0.0, 2.0),
    "does not power on": (0.0, 2.0),
    "not detected": (0.0, 2.0),
    "overheat*": (0.0, 1.0),
    "throttl*": (0.0, 1.0),
    "shuts down": (0.0, 1.5),
    "shut down": (0.0, 1.0),
    "powers off": (0.0, 1.5),
    "xid": (0.0, 1.0),
    "uncorrectable": (0.0, 1.5),
    "bent": (0.0, 1.0),
    "snapped": (0.0, 1.0),
    "down": (0.0, 0.5),
    "suspended": (0.0, 2.0),
    "locked": (0.0, 1.0),
    "every time": (0.0, 0.5),
    "every call": (0.0, 1.0),
    "every request": (0.0, 1.0),
    "all calls": (0.0, 1.0),
    "never": (0.0, 0.5),
    "dangerous": (0.0, 2.0),
    "harmful": (0.0, 2.0),
    "insulted": (0.0, 2.0),
    "serious": (0.0, 1.5),
    "bias": (0.0, 1.5),
    "legal": (0.0, 1.0),
    "charged twice": (0.0, 2.0),
    "billed twice": (0.0, 2.0),
    "twice": (0.0, 0.5),
    "dispute": (0.0, 1.5),
    "unauthorized": (0.0, 1.0),
    "declined": (0.0, 1.0),
    "chargeback": (0.0, 2.0),
    "reverse the charge": (0.0, 1.5),
    "without any": (0.0, 1.0),
    "not agree": (0.0, 1.0),
    "upset": (0.0, 1.0),
    "unacceptable": (0.0, 1.5),
    "outrageous": (0.0, 2.0),
    "third time": (0.0, 1.0),
    "today": (0.0, 0.5),
    "tomorrow": (0.0, 0.5),
    "contract": (0.0, 1.0),
    "gdpr": (0.0, 2.0),
    "no answer": (0.0, 1.0),
    "memory leak": (0.0, 1.0),
    "no funciona": (0.0, 1.5),
    "se apaga": (0.0, 1.5),
    "funktioniert nicht": (0.0, 1.5),
    "startet nicht": (0.0, 1.5),
    "ne fonctionne pas": (0.0, 1.5),
    "plante": (0.0, 1.5),
    # questions, wishes, thanks, minor annoyances -> towards low
    "how do i": (0.0, -2.0),
    "how can i": (0.0, -2.0),
    "how do we": (0.0, -1.0),
    "how to": (0.0, -1.0),
    "where can i": (0.0, -2.0),
    "is there": (0.0, -1.0),
    "do you": (0.0, -1.0),
    "feature request": (0.0, -3.0),
    "would be nice": (0.0, -3.0),
    "would be great": (0.0, -3.0),
    "please add": (0.0, -1.0),
    "thanks!": (0.0, -1.0),
    "thank you": (0.0, -1.0),
    "minor": (0.0, -2.0),
    "cosmetic": (0.0, -2.0),
    "not critical": (0.0, -3.0),
    "not urgent": (-3.0, -3.0),
    "no rush": (0.0, -3.0),
    "no order yet": (0.0, -2.0),
    "known limitation": (0.0, -2.0),
    "just wanted": (0.0, -2.0),
    "just planning": (0.0, -2.0),
    "intermittently": (0.0, -1.0),
    "sometimes": (0.0, -0.5),
    "annoying": (0.0, -1.0),
    "works fine": (0.0, -0.5),
    "works fine otherwise": (0.0, -1.0),
    "is it normal": (0.0, -2.0),
    "occasionally": (0.0, -1.0),
    "workaround": (0.0, -1.0),
    "can someone explain": (0.0, -1.0),
    "is that possible": (0.0, -1.0),
}

# Base move on the high/low axis per default label: feature requests, praise and sales questions
# ("other") are low unless something says otherwise; quality complaints are rarely blocking.
_CATEGORY_PRIORITY_BIAS: tuple[float, ...] = (1.5, 1.0, 0.0, 0.0, -2.0)

_SUFFIXES: tuple[str, ...] = (
    "s", "es", "ed", "d", "ing", "er", "ers", "ly", "e", "y", "ies", "ied", "ion", "ions", "al",
)  # fmt: skip

# --------------------------------------------------------------------------- tokens

#: ASCII punctuation becomes a separator (the apostrophe is deleted instead, so "doesn't" is one
#: token "doesnt"); letters, digits and every non-ASCII byte stay
_ASCII_SEPARATORS = b'!"#$%&()*+,-./:;<=>?@[\\]^_`{|}~\t\r\n\f\v'
_BYTE_TABLE = bytes.maketrans(_ASCII_SEPARATORS, b" " * len(_ASCII_SEPARATORS))
#: the non-ASCII punctuation and spaces that really occur in tickets; "’" becomes an apostrophe
_UNICODE_SEPARATORS = re.compile(
    "[\u00a0\u00a1\u00a9\u00ab\u00ae\u00b0\u00b7\u00bb\u00bf\u2010-\u2015\u2018\u201c-\u201e\u2022\u2026\u2122]"
)
_CURLY_APOSTROPHE = "\u2019".encode()
_HEAD_CHARS = 3000
_TAIL_CHARS = 600


def _tokens(text: str) -> list[bytes]:
    r"""Lower-cased word tokens (UTF-8 bytes) of the parts of ``text`` that carry the request.

    Why bytes: ``bytes.translate`` maps through a 256-entry table in C, so lowering, encoding,
    translating and splitting a 300-character ticket takes about 1.7 µs, where ``str.translate``
    takes 3 µs on ASCII and 14 µs as soon as one "é" or "°" appears (it then looks every character
    up in a dict), and one compiled ``re.findall(r"[^\W_]+")`` takes 6-7 µs. Non-ASCII text first
    gets its few multi-byte separators (curly quotes, dashes, NBSP, «», ¿) replaced by one
    precompiled regex. Tokens are bytes and so are all trie keys, built by this same function, so
    they always agree. Long texts are cut to head + tail so the time per ticket is bounded.
    """
    if len(text) > _HEAD_CHARS + _TAIL_CHARS:
        text = text[:_HEAD_CHARS] + " " + text[-_TAIL_CHARS:]
    low = text.lower()
    if low.isascii():
        return low.encode().translate(_BYTE_TABLE, b"'").split()
    data = _UNICODE_SEPARATORS.sub(" ", low).encode().replace(_CURLY_APOSTROPHE, b"'")
    return data.translate(_BYTE_TABLE, b"'").split()


# --------------------------------------------------------------------------- trie


def _forms(word: str) -> set[str]:
    """Simple inflections of ``word`` so tables can say "refund*" instead of five lines."""
    forms = {word}
    forms.update(word + s for s in _SUFFIXES)
    if word.endswith("e"):
        forms.update(word[:-1] + s for s in ("ing", "ed", "er", "ers", "ion", "ions"))
    if word.endswith("y"):
        forms.update(word[:-1] + s for s in ("ies", "ied"))
    return forms


def _keys(phrase: str) -> list[tuple[bytes, ...]]:
    """Token sequences a table key stands for, tokenised exactly as tickets are."""
    star = phrase.endswith("*")
    words = _tokens(phrase.rstrip("*"))
    if not star:
        return [tuple(words)]
    return [(*words[:-1], form.encode()) for form in sorted(_forms(words[-1].decode()))]


# A trie node is (category weights as ((label index, weight), ...), urgent points, high/low points,
# children or None). Built as lists, frozen into tuples so the hot loop unpacks them cheaply.
_Node = tuple[tuple[tuple[int, float], ...], float, float, "_Trie | None"]
_Trie = dict[bytes, _Node]


def _build_trie() -> _Trie:
    root: dict[bytes, list[Any]] = {}

    def node_for(seq: tuple[bytes, ...]) -> list[Any]:
        level = root
        node: list[Any] = []
        for i, tok in enumerate(seq):
            node = level.setdefault(tok, [{}, 0.0, 0.0, None])
            if i < len(seq) - 1:
                if node[3] is None:
                    node[3] = {}
                level = node[3]
        return node

    for label, cues in _CATEGORY_CUES.items():
        for phrase, weight in cues.items():
            for seq in _keys(phrase):
                weights = node_for(seq)[0]
                weights[label] = weights.get(label, 0.0) + weight
    for phrase, deltas in _COUNTER_CUES.items():
        for seq in _keys(phrase):
            weights = node_for(seq)[0]
            for label, weight in deltas.items():
                weights[label] = weights.get(label, 0.0) + weight
    for phrase, (urgent, lean) in _PRIORITY_CUES.items():
        for seq in _keys(phrase):
            node = node_for(seq)
            node[1] += urgent
            node[2] += lean

    def freeze(level: dict[bytes, list[Any]]) -> _Trie:
        return {
            tok: (
                tuple((k, w) for k, w in sorted(node[0].items()) if w),
                node[1],
                node[2],
                freeze(node[3]) if node[3] else None,
            )
            for tok, node in level.items()
        }

    return freeze(root)


_TRIE: _Trie = _build_trie()


def _score(tokens: list[bytes]) -> tuple[list[float], float, float]:
    """Category scores, urgent points and high/low points from one pass over the tokens."""
    scores = [0.0, 0.0, 0.0, 0.0, 0.0]
    urgent = 0.0
    lean = 0.0
    n = len(tokens)
    # map() looks every token up in C and compress() skips, also in C, the tokens that start no
    # cue, so Python-level work is proportional to the number of cue hits, not of tokens (on the
    # samples: 8 hits for 30 tokens on average). Phrases are walked forwards from their first word.
    # (the None entries are exactly the ones compress() skips)
    nodes = cast("list[_Node]", list(map(_TRIE.get, tokens)))
    for i in compress(range(n), nodes):
        weights, u, h, kids = nodes[i]
        if weights:
            for k, w in weights:
                scores[k] += w
        if u or h:
            urgent += u
            lean += h
        j = i + 1
        while kids is not None and j < n:  # the token starts a phrase: walk on while it matches
            node = kids.get(tokens[j])
            if node is None:
                break
            weights, u, h, kids = node
            for k, w in weights:
                scores[k] += w
            urgent += u
            lean += h
            j += 1
    return scores, urgent, lean


# --------------------------------------------------------------------------- summary

_GREETING = re.compile(
    r"\s*(?i:hi|hello|hey|dear|hola|bonjour|hallo|greetings|good\s+(?:morning|afternoon|evening)"
    r"|guten\s+(?:tag|morgen)|buenos\s+d[ií]as)"
    r"(?:[ \t]+(?:[A-Z][\w.'/-]*|team|all|there|support|folks|everyone|sir|madam|guys|zusammen"
    r"|equipo|à|tous|billing|forge)){0,4}[ \t]*(?:[,!:.]+|(?=\n))"
)
#: what ends a sentence: a line break, or terminal punctuation followed by a space
_BOUNDARIES: tuple[str, ...] = ("\n", ". ", "? ", "! ")
_EXCEPTION_LINE = re.compile(r"^[A-Za-z_][\w.]*(?:Error|Exception)\b.*$", re.M)
#: "e.g." and friends at the end of a would-be sentence: the sentence goes on
_ABBREVIATION_END = re.compile(r"(?<![^\W\d_])(?i:e\.g|i\.e|etc|vs|approx|incl|no|mr|dr)\.\Z")
_SUMMARY_SCAN = 600
_SUMMARY_MAX = 120


def _summary(text: str) -> str:
    """First meaningful sentence, greeting stripped, whitespace collapsed, at most 120 chars.

    Why the first sentence: in tickets the ask comes first far more often than not, and a summary
    that quotes the customer cannot invent anything. "Meaningful" = at least three words; a lone
    "Thanks!" or "URGENT" is used only when nothing better follows.
    """
    head = text[:_SUMMARY_SCAN]
    greeting = _GREETING.match(head)
    if greeting:
        head = head[greeting.end() :]
    if head.find("Traceback", 0, 40) != -1:
        exc = _EXCEPTION_LINE.search(text, 0, 8000)
        if exc:
            head = exc.group(0)
    first = ""
    pos = 0
    size = len(head)
    while pos < size:
        scan = pos
        limit = min(size, pos + 2 * _SUMMARY_MAX)  # a longer sentence is cut anyway
        while True:
            end = limit
            for mark in _BOUNDARIES:  # str.find runs in C; each hit narrows the next search
                k = head.find(mark, scan, end)
                if k != -1:
                    end = k + 1
            if (
                end < limit
                and head[end - 1] == "."
                and _ABBREVIATION_END.search(head, max(pos, end - 8), end)
            ):
                scan = end
                continue
            break
        part = head[pos:end].strip()
        pos = end
        if not part:
            continue
        if not first:
            first = part
        if part.count(" ") >= 2:
            first = part
            break
    # only the first ~120 visible chars survive: collapse no more text than can fill them, and
    # skip the split/join entirely for the common sentence that has nothing to collapse
    clipped = len(first) > 2 * _SUMMARY_MAX
    if clipped:
        first = first[: 2 * _SUMMARY_MAX]
    line = " ".join(first.split()) if "  " in first or not first.isprintable() else first
    if clipped and len(line) <= _SUMMARY_MAX:
        line = line[: _SUMMARY_MAX - 1].rstrip(" ,;:-") + "…"
    elif len(line) > _SUMMARY_MAX:
        cut = line.rfind(" ", 0, _SUMMARY_MAX)
        if cut < _SUMMARY_MAX // 2:
            cut = _SUMMARY_MAX - 1
        line = line[:cut].rstrip(" ,;:-") + "…"
    return line


# --------------------------------------------------------------------------- custom label sets

_LABEL_SPLIT = re.compile(r"[_\-\s]+")
_NAME_STOPWORDS = frozenset({"issue", "issues", "other", "and", "or", "the", "of", "a"})
#: a custom label's own word in the text outweighs any single built-in cue: the user chose that name
_NAME_WORD_WEIGHT = 4.0


_Plan = tuple[dict[bytes, tuple[int, ...]], tuple[int, ...], int]


@lru_cache(maxsize=64)
def _label_plan(labels: tuple[str, ...]) -> _Plan | None:
    """For a custom label set: word form -> label indices, default-table index per label, fallback.

    None for the default set in any order (e.g. read from a config file): that is not a custom
    set, so it gets the default scoring. Cached because a run uses one label set for every ticket;
    building this per call would cost more than classifying.
    """
    if not labels:
        raise ValueError("categories must not be empty")
    if len(labels) == len(DEFAULT_CATEGORIES) and set(labels) == set(DEFAULT_CATEGORIES):
        return None
    words: dict[bytes, set[int]] = {}
    defaults: list[int] = []
    for idx, label in enumerate(labels):
        low = label.lower()
        defaults.append(DEFAULT_CATEGORIES.index(low) if low in DEFAULT_CATEGORIES else -1)
        for word in _LABEL_SPLIT.split(low):
            for raw in _tokens(word):
                tok = raw.decode()
                if len(tok) < 2 or tok in _NAME_STOPWORDS:
                    continue
                stems = {tok}
                for suffix in ("ing", "es", "s", "ed", "ment", "ion"):
                    if tok.endswith(suffix) and len(tok) - len(suffix) >= 3:
                        stems.add(tok[: -len(suffix)])
                for stem in stems:
                    for form in _forms(stem):
                        words.setdefault(form.encode(), set()).add(idx)
    lower = [label.lower() for label in labels]
    fallback = lower.index("other") if "other" in lower else len(labels) - 1
    return {w: tuple(sorted(s)) for w, s in words.items()}, tuple(defaults), fallback


_POSITIVE = (0.0).__lt__


def _pick(
    scores: list[float], fallback: int, labels: Sequence[str]
) -> tuple[str, float, int, bool]:
    """Winner, its share of the positive total, its index, and whether it is only a stand-in.

    Ties and no evidence go to the fallback label: a tie is evidence for neither side. When the
    fallback was not itself among the tied labels it is a stand-in (last value True), and the
    caller should not read anything into which label it is.
    """
    best = max(scores)
    if best <= 0.0:
        return labels[fallback], 0.0, fallback, False
    total = sum(filter(_POSITIVE, scores))
    idx = scores.index(best)
    stand_in = False
    if scores.count(best) > 1:
        stand_in = scores[fallback] != best
        idx = fallback
        best = max(scores[idx], 0.0)
    # int(x + 0.5) rounds to 3 places at a third of round()'s cost; this runs on every ticket
    return labels[idx], int(best / total * 1000.0 + 0.5) / 1000.0, idx, stand_in


# --------------------------------------------------------------------------- public entry point


def classify(text: str, categories: Sequence[str] = DEFAULT_CATEGORIES) -> Verdict:
    """Classify one ticket offline; always returns a category from ``categories``."""
    body = text
    if len(body) > _HEAD_CHARS + _TAIL_CHARS:  # bounded work per ticket, see _tokens
        body = body[:_HEAD_CHARS] + " " + body[-_TAIL_CHARS:]
    tokens = _tokens(body)
    scores, urgent, lean = _score(tokens)
    if "$" in body or "€" in body:
        scores[BI] += 1.0
    if "!!!" in body:
        lean += 1.0
    plan = None if categories is DEFAULT_CATEGORIES else _label_plan(tuple(categories))
    if plan is None:
        best = max(scores)
        if best > 0.0 and scores.count(best) == 1:  # the common case, inlined: runs per ticket
            default_idx = scores.index(best)
            category = DEFAULT_CATEGORIES[default_idx]
            confidence = int(best / sum(filter(_POSITIVE, scores)) * 1000.0 + 0.5) / 1000.0
        else:
            category, confidence, default_idx, stand_in = _pick(scores, OT, DEFAULT_CATEGORIES)
            if stand_in:
                default_idx = -1  # two problem labels level: no category-based priority bias
    else:
        words, defaults, fallback = plan
        labels = tuple(categories)
        custom = [scores[d] if d >= 0 else 0.0 for d in defaults]
        for hit in map(words.get, tokens):
            if hit:
                for k in hit:
                    custom[k] += _NAME_WORD_WEIGHT
        category, confidence, idx, stand_in = _pick(custom, fallback, labels)
        default_idx = -1 if stand_in else defaults[idx]
    if confidence == 0.0:
        lean -= 1.0  # nothing recognisable: most likely chatter, not an incident
    elif default_idx >= 0:
        lean += _CATEGORY_PRIORITY_BIAS[default_idx]
    if urgent >= 3.0:
        priority = "urgent"
    elif lean >= 2.0:
        priority = "high"
    elif lean <= -2.0:
        priority = "low"
    else:
        priority = "medium"
    return Verdict(category, priority, _summary(text), confidence)
