"""Batch mode: the provider's batch API as a resumable way to run classify and commit-msg --range.

``journal`` (what was submitted, atomically recorded), ``plan`` (cache first, dedup, packing: the
same as the engine's), ``submit`` (jobs within the provider's limits, never twice), ``collect``
(answers checked by the task and put in the cache), ``view`` (what the provider reports),
``flow`` (the command: submit, wait, collect, then the synchronous path writes the outputs).
None of it knows a wire format: ``providers/batch.py`` is its whole view of a provider.
"""
