"""forge's OpenAI Batch API adapter against the simulator's files and batches endpoints: the
shapes on the wire, paging to find a job by its key, and OpenAI's error bodies."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator

import httpx
import orjson
import pytest

from conftest import API_KEY
from forge_cli.core.calls import PackItem
from forge_cli.core.errors import AuthError, NotFoundError, RequestError
from forge_cli.providers.batch import batch_api
from forge_cli.providers.config import ProviderConfig
from forge_cli.providers.openai import OpenAICompatibleProvider
from forge_cli.providers.openai_batch import OpenAIBatch
from forge_cli.tasks.classify.task import TicketTask, classification_fields
from forge_cli.testing.sim.server import FakeUpstream


@pytest.fixture
def upstream() -> Iterator[FakeUpstream]:
    with FakeUpstream(api_key=API_KEY) as server:
        yield server


def _api(
    upstream: FakeUpstream, key: str = API_KEY
) -> tuple[OpenAIBatch, OpenAICompatibleProvider]:
    config = ProviderConfig(
        name="openai", preset="openai", base_url=upstream.base_url, model="gpt-4o-mini"
    )
    provider = OpenAICompatibleProvider.from_config(config, key)
    api = batch_api(provider, "openai")
    assert isinstance(api, OpenAIBatch)
    return api, provider


def _close(api: OpenAIBatch, provider: OpenAICompatibleProvider) -> None:
    api.close()
    asyncio.run(provider.aclose())


TASK = TicketTask(instructions="", fields=classification_fields(None, None, {}, None))


def _lines(api: OpenAIBatch, count: int) -> bytes:
    return b"".join(
        api.line(f"c{n}", TASK.build_request([PackItem("a1", f"screen {n} flickers")]))
        for n in range(count)
    )


def test_a_job_from_upload_to_answers(upstream: FakeUpstream) -> None:
    api, provider = _api(upstream)
    upstream.batches.clock.per_request = 0.01
    try:
        file_id = api.upload(_lines(api, 5), "in.jsonl")
        assert upstream.batches.files[file_id][0]["purpose"] == "batch"
        job = api.create(file_id, "fj-1")
        assert job.metadata == {"forge_job": "fj-1"} and job.total == 5
        assert job.status in ("in_progress", "validating")
        time.sleep(0.1)
        job = api.retrieve(job.id)
        assert (job.status, job.completed, job.failed) == ("completed", 5, 0)
        answers = list(api.answers(job))
        assert sorted(a.custom_id for a in answers) == [f"c{n}" for n in range(5)]
        parsed = TASK.parse(answers[0].completion.content, ["a1"])
        assert parsed.answers["a1"]["category"]
        with pytest.raises(RequestError, match="Cannot cancel a batch with status 'completed'"):
            api.cancel(job.id)
    finally:
        _close(api, provider)


def test_the_wire_shapes(upstream: FakeUpstream) -> None:
    headers = {"authorization": f"Bearer {API_KEY}"}
    base = upstream.base_url
    with httpx.Client(headers=headers) as client:
        line = {"custom_id": "x", "method": "POST", "url": "/v1/chat/completions", "body": {}}
        upload = client.post(
            f"{base}/files",
            data={"purpose": "batch"},
            files={"file": ("in.jsonl", orjson.dumps(line) + b"\n", "application/jsonl")},
        )
        assert upload.status_code == 200
        assert set(upload.json()) >= {"id", "object", "bytes", "created_at", "filename", "purpose"}
        body = {
            "input_file_id": upload.json()["id"],
            "endpoint": "/v1/chat/completions",
            "completion_window": "24h",
        }
        batch = client.post(f"{base}/batches", json=body).json()
        assert batch["object"] == "batch"
        assert set(batch["request_counts"]) == {"total", "completed", "failed"}
        assert batch["expires_at"] - batch["created_at"] == 24 * 3600
        done = client.get(f"{base}/batches/{batch['id']}").json()
        assert done["status"] == "completed" and done["output_file_id"] is None
        # an empty body is a 400 of the chat endpoint: it is in the error file, not the output
        errors = client.get(f"{base}/files/{done['error_file_id']}/content").content
        (entry,) = [orjson.loads(raw) for raw in errors.splitlines()]
        assert entry["custom_id"] == "x" and entry["response"]["status_code"] == 400
        assert set(entry["response"]["body"]["error"]) == {"message", "type", "param", "code"}
        listing = client.get(f"{base}/batches", params={"limit": 1}).json()
        assert listing["object"] == "list" and listing["first_id"] == batch["id"]

        bad = client.post(f"{base}/batches", json={**body, "completion_window": "1h"})
        assert bad.status_code == 400
        assert bad.json()["error"]["param"] == "completion_window"
        missing = client.post(f"{base}/files", data={"purpose": "batch"}, files={"x": b""})
        assert missing.status_code == 400 and missing.json()["error"]["param"] == "file"


def test_a_job_is_found_by_its_key_across_pages(upstream: FakeUpstream) -> None:
    api, provider = _api(upstream)
    try:
        file_id = api.upload(_lines(api, 1), "in.jsonl")
        first = api.create(file_id, "fj-first")
        for n in range(120):  # the listing is newest first, 100 a page: the first is on page 2
            api.create(file_id, f"fj-{n}")
        found = api.find("fj-first")
        assert found is not None and found.id == first.id
        assert api.find("fj-never") is None
    finally:
        _close(api, provider)


def test_a_job_that_fails_validation(upstream: FakeUpstream) -> None:
    api, provider = _api(upstream)
    try:
        twice = _lines(api, 1) * 2  # the same custom_id twice
        job = api.create(api.upload(twice, "in.jsonl"), "fj-dup")
        assert job.status == "failed" and job.terminal
        assert "duplicate" in job.errors[0]
        assert list(api.answers(job)) == []
    finally:
        _close(api, provider)


def test_openai_error_bodies(upstream: FakeUpstream) -> None:
    api, provider = _api(upstream)
    try:
        with pytest.raises(NotFoundError, match="No batch found"):
            api.retrieve("batch_nope")
    finally:
        _close(api, provider)
    wrong, provider = _api(upstream, key="sk-wrong-0000000000000000")
    try:
        with pytest.raises(AuthError) as caught:
            wrong.upload(b"{}\n", "in.jsonl")
        assert "sk-wrong" not in str(caught.value)
    finally:
        _close(wrong, provider)


def test_a_job_asks_for_no_log_probabilities(upstream: FakeUpstream) -> None:
    # a model that refuses them would fail every request of the job, each then asked again at
    # full price: batch answers go without confidence (the synchronous path still asks)
    api, provider = _api(upstream)
    try:
        request = TASK.build_request([PackItem("a1", "screen flickers")])
        assert request.confidence and provider.body(request)["logprobs"] is True
        body = orjson.loads(api.line("c1", request))["body"]
        assert "logprobs" not in body and "top_logprobs" not in body
    finally:
        _close(api, provider)
