"""A local model as one JSON file: readable, diffable, and safe to open.

Why JSON and not pickle (or joblib, or ``np.save`` with objects): loading a pickle runs code, and a
model file is exactly the kind of thing people pass around. Arrays are stored as base64 of
little-endian float16 (weights) or float32 (IDF, biases): half the size of float32 with no accuracy
lost at this model's precision. Every field is checked on load, so a damaged or foreign file is one
clear line, never a traceback.
"""

from __future__ import annotations

import base64
import os
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import orjson
from numpy.typing import NDArray
from pydantic import BaseModel, ConfigDict, ValidationError

from forge_cli.core.errors import UsageError
from forge_cli.learn.features import Vocabulary
from forge_cli.learn.linear import Linear
from forge_cli.learn.model import FieldModel, LocalModel

__all__ = ["FORMAT", "load_model", "save_model"]

FORMAT = "forge-local-model"
VERSION = 1


class _Array(BaseModel):
    model_config = ConfigDict(extra="forbid")
    dtype: str
    shape: list[int]
    data: str


class _Field(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str
    labels: list[str]
    weights: _Array
    bias: _Array
    temperature: float
    cv_accuracy: float
    majority: float
    coverage: list[tuple[float, float, float]]


class _File(BaseModel):
    model_config = ConfigDict(extra="forbid")
    format: str
    version: int
    created: str
    trained_on: int
    source: str
    terms: list[str]
    idf: _Array
    fields: list[_Field]


def _pack(array: NDArray[Any], dtype: str) -> _Array:
    data = np.ascontiguousarray(array, dtype=np.dtype(dtype).newbyteorder("<"))
    return _Array(
        dtype=dtype, shape=list(data.shape), data=base64.b64encode(data.tobytes()).decode()
    )


def _unpack(array: _Array) -> NDArray[np.float32]:
    if array.dtype not in ("float16", "float32"):
        raise ValueError(f"unknown array type {array.dtype!r}")
    raw = base64.b64decode(array.data, validate=True)
    values = np.frombuffer(raw, dtype=np.dtype(array.dtype).newbyteorder("<"))
    return values.reshape(array.shape).astype(np.float32)


def save_model(model: LocalModel, path: Path) -> int:
    """Write ``model`` to ``path`` whole or not at all; return the file's size in bytes."""
    doc = _File(
        format=FORMAT,
        version=VERSION,
        created=model.created,
        trained_on=model.trained_on,
        source=model.source,
        terms=model.vocabulary.terms,
        idf=_pack(model.vocabulary.idf, "float32"),
        fields=[
            _Field(
                name=f.name,
                labels=f.labels,
                weights=_pack(f.classifier.weights, "float16"),
                bias=_pack(f.classifier.bias, "float32"),
                temperature=f.classifier.temperature,
                cv_accuracy=f.cv_accuracy,
                majority=f.majority,
                coverage=f.coverage,
            )
            for f in model.fields
        ],
    )
    blob = orjson.dumps(doc.model_dump())
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(blob)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return len(blob)


def load_model(path: Path) -> LocalModel:
    """The model in ``path``; a missing, damaged or foreign file is a UsageError naming it."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise UsageError(f"{path}: cannot read the model: {exc.strerror or exc}") from None
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise UsageError(
            f"{path}: not a forge model (not JSON); make one with forge train"
        ) from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise UsageError(f"{path}: not a forge model; make one with forge train")
    if data.get("version") != VERSION:
        raise UsageError(
            f"{path}: model format version {data.get('version')!r}, this forge reads {VERSION}: "
            "train it again with this version"
        )
    try:
        doc = _File.model_validate(data)
        return _model(doc)
    except (ValidationError, ValueError) as exc:
        reason = str(exc).splitlines()[0]
        raise UsageError(f"{path}: damaged model file ({reason}); train it again") from None


def _model(doc: _File) -> LocalModel:
    idf = _unpack(doc.idf)
    if idf.shape != (len(doc.terms),):
        raise ValueError("vocabulary and IDF sizes differ")
    fields = []
    for f in doc.fields:
        weights, bias = _unpack(f.weights), _unpack(f.bias)
        if weights.shape != (len(doc.terms), len(f.labels)) or bias.shape != (len(f.labels),):
            raise ValueError(f"field {f.name}: weights do not match its labels")
        if not f.temperature > 0:
            raise ValueError(f"field {f.name}: temperature must be positive")
        fields.append(
            FieldModel(
                name=f.name,
                labels=f.labels,
                classifier=Linear(weights, bias, f.temperature),
                cv_accuracy=f.cv_accuracy,
                majority=f.majority,
                coverage=[tuple(c) for c in f.coverage],  # type: ignore[misc]
            )
        )
    if not fields:
        raise ValueError("no fields")
    return LocalModel(
        vocabulary=Vocabulary(doc.terms, idf),
        fields=fields,
        trained_on=doc.trained_on,
        created=doc.created,
        source=doc.source,
    )
