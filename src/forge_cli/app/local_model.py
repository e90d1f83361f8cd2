"""A trained local model meets a run: its fields checked against the task's, bound as a provider,
or set as the first stage of a cascade.

A model knows the labels it was trained on, spelled as the training data spelled them; the run's
fields say what the user wants now. They must agree (the same label fields, the same labels, compared
as classify compares answers), or the model is refused with one line saying what differs: a model for
other labels would answer confidently and wrongly.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from forge_cli.core.errors import UsageError
from forge_cli.engine.calling.chain import Chain
from forge_cli.learn.model import LocalModel, Prediction
from forge_cli.learn.modelfile import load_model
from forge_cli.providers.local import LocalModelProvider
from forge_cli.tasks.base import Task
from forge_cli.tasks.classify.fields import Field, label_key
from forge_cli.tasks.classify.task import TicketTask

__all__ = ["LocalScreen", "bind_local_models", "model_fields", "screen_for"]


def model_fields(model: LocalModel) -> list[Field]:
    """The fields a model answers, as classify fields (for a run that names none)."""
    return [Field(name=f.name, labels=tuple(f.labels)) for f in model.fields]


def _spelling(model: LocalModel, task: Task, where: str) -> dict[str, dict[str, str]]:
    """Per label field of the task: model label -> the task's spelling; UsageError when they differ."""
    if not isinstance(task, TicketTask):
        raise UsageError(f"{where}: a trained model answers classify only, not {task.name}")
    trained = ", ".join(f"{f.name} ({len(f.labels)} labels)" for f in model.fields)
    spelling: dict[str, dict[str, str]] = {}
    for f in (f for f in task.fields if not f.is_text):
        mine = model.field(f.name)
        if mine is None:
            raise UsageError(
                f"{where}: this model has no field {f.name!r} (it was trained for {trained}); "
                "train one with these fields (forge train --field ...) or pass --field to match it"
            )
        if f.multi:
            raise UsageError(f"{where}: {f.name} takes several labels; a trained model gives one")
        wanted = {label_key(label): label for label in f.labels}
        unknown = [label for label in mine.labels if label_key(label) not in wanted]
        if unknown:
            shown = ", ".join(repr(x) for x in unknown[:5])
            raise UsageError(
                f"{where}: field {f.name}: the model answers labels this run does not have "
                f"({shown}); it was trained for other labels: train it again with these"
            )
        spelling[f.name] = {label: wanted[label_key(label)] for label in mine.labels}
    return spelling


def _fill(task: TicketTask) -> Any:
    """The free-text fields of an answer (a summary) from the task's offline rule."""
    texts = [f.name for f in task.fields if f.is_text]

    def fill(text: str) -> dict[str, Any]:
        if not texts:
            return {}
        entry = task.offline_entry(text)
        return {name: entry[name] for name in texts}

    return fill


def bind_local_models(chain: Chain, task: Task) -> None:
    """Check every local model of the chain against the task and tell it what to answer."""
    for member in chain.members:
        provider = member.provider
        if isinstance(provider, LocalModelProvider):
            spelling = _spelling(provider.local, task, provider.model)
            _respell(provider.local, spelling)
            assert isinstance(task, TicketTask)
            provider.use_rule(_fill(task), list(spelling))


def _respell(model: LocalModel, spelling: dict[str, dict[str, str]]) -> None:
    for f in model.fields:
        if f.name in spelling:
            f.labels = [spelling[f.name][label] for label in f.labels]


@dataclass(slots=True)
class LocalScreen:
    """The cascade's first stage: records every field of which the model is sure of, answered."""

    provider: LocalModelProvider
    task: TicketTask
    threshold: float
    name: str = "local"
    model: str = ""
    #: records it is not sure of reach the chain with its best guesses appended
    hint: bool = False

    def answer(self, texts: Sequence[str]) -> list[dict[str, Any] | str | None]:
        local = self.provider.local
        prediction = local.predict(texts)
        fields = [f.name for f in local.fields if f.name in self._asked()]
        sure = prediction.sure(self.threshold, fields)
        fill = _fill(self.task)
        out: list[dict[str, Any] | str | None] = []
        for n, text in enumerate(texts):
            if not sure[n]:
                out.append(_hint(prediction, fields, n) if self.hint else None)
                continue
            entry = fill(text) | {name: prediction.labels[name][n] for name in fields}
            row = self.task.accept(entry)
            if isinstance(row, str):  # cannot happen with checked labels; the chain answers then
                out.append(None)
                continue
            for name in fields:
                row[f"{name}_confidence"] = round(float(prediction.confidence[name][n]), 4)
            out.append(row)
        return out

    def _asked(self) -> set[str]:
        return {f.name for f in self.task.fields if not f.is_text}


def _hint(prediction: Prediction, fields: Sequence[str], n: int) -> str:
    """What the model would answer, worded as a hint the chain may weigh against the text."""
    guesses = ", ".join(
        f"{name}: {prediction.labels[name][n]} ({float(prediction.confidence[name][n]):.0%} sure)"
        for name in fields
    )
    return (
        f"[A classifier trained on this team's labelled tickets guesses {guesses}. "
        "Use it only where the text agrees.]"
    )


def screen_for(path: Path, task: Task, threshold: float, *, hint: bool = False) -> LocalScreen:
    """The first stage of a cascade from a model file, checked against the run's task."""
    if not 0.0 < threshold <= 1.0:
        raise UsageError(f"--cascade-threshold: {threshold:g} is not in (0, 1]")
    provider = LocalModelProvider(load_model(path), path=str(path))
    spelling = _spelling(provider.local, task, str(path))
    _respell(provider.local, spelling)
    assert isinstance(task, TicketTask)
    return LocalScreen(provider, task, threshold, model=str(path), hint=hint)
