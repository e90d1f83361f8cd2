"""Structured output: which answer format a provider is asked for, and stepping down when refused.

A model that may only write what the answer's JSON Schema allows cannot invent a label or leave out
a field: the labels are enums it cannot leave. Most wires take a schema (OpenAI-compatible servers
as ``response_format`` ``json_schema``, which llama.cpp and vLLM turn into a grammar; Gemini as
``responseSchema``; Cohere as ``json_schema``; Anthropic as the input schema of a tool it is made
to call), but not every server behind a wire does: an older llama.cpp build, a model on a router,
DeepSeek. Those answer 400 (llama-cpp-python's server a 500 whose body is the validation error
naming ``response_format``), so a provider tries the richest output first and steps down on a
refusal (schema, then the wire's plain JSON mode, then the prompt alone), sending the same request
again once per step and remembering the step for the rest of the run.
"""

from __future__ import annotations

import re
from enum import IntEnum

from forge_cli.core.calls import PackRequest
from forge_cli.core.errors import ProviderError, RequestError

__all__ = ["ANSWER_NAME", "Output", "OutputLadder"]

#: what forge calls the answer where a wire wants a name for it (OpenAI's ``json_schema.name``,
#: Anthropic's tool): letters, digits and ``_`` only, as both require
ANSWER_NAME = "forge_answer"


class Output(IntEnum):
    """How strongly a request binds the answer's format; a larger value binds more."""

    #: only the prompt asks for JSON
    TEXT = 0
    #: the wire's JSON mode: any JSON object
    JSON = 1
    #: the answer's schema, enforced by the provider
    SCHEMA = 2


class OutputLadder:
    """The output modes one provider instance may use, and those its server has refused.

    ``schema`` and ``json`` are what the configuration allows (a preset's knowledge, or the user's
    ``json_schema`` / ``json_mode`` settings); ``refusal`` matches what the wire's servers say when
    they refuse an output mode, so any other 400 (a prompt too long, a bad parameter) is not mistaken
    for one and is raised as it is.
    """

    def __init__(self, *, schema: bool, json: bool, refusal: re.Pattern[str]) -> None:
        self._allowed = frozenset(
            {Output.TEXT}
            | ({Output.JSON} if json else set())
            | ({Output.SCHEMA} if schema else set())
        )
        self._refused: set[Output] = set()
        self._refusal = refusal

    def choose(self, request: PackRequest) -> Output:
        """The richest output mode this request can use that the server has not refused."""
        if not request.json_mode:
            return Output.TEXT
        return self._best(Output.SCHEMA if request.schema is not None else Output.JSON)

    def refused(self, used: Output, error: ProviderError) -> Output | None:
        """After ``error`` on a request sent with ``used``: the mode to send it with again, or None
        when the error is not the server refusing that mode (the caller raises it).

        Requests in flight when the first refusal comes each get their own 400 and step down
        alongside; every later request starts below the refused mode.
        """
        if used is Output.TEXT or not self.is_refusal(error):
            return None
        self._refused.add(used)
        return self._best(Output(used - 1))

    def is_refusal(self, error: ProviderError) -> bool:
        """The server refused the output it was asked for (a mode, a schema), nothing else."""
        # a 400/422 is the usual refusal; llama-cpp-python's server answers a response_format it
        # does not know with a 500 carrying the validation error, which no retry can change
        if not isinstance(error, RequestError) and error.status != 500:
            return False
        return bool(self._refusal.search(f"{error.message} {error.raw or ''}"))

    def _best(self, ceiling: Output) -> Output:
        usable = (mode for mode in self._allowed - self._refused if mode <= ceiling)
        return max(usable, default=Output.TEXT)
