import time

from forge_cli.engine.cache import ResultCache, cache_key, default_cache_dir, normalise


def test_key_normalises_space_and_case_but_not_content():
    fp = "tickets|openai|gpt"
    assert cache_key("Printer  is\nBROKEN ", fp) == cache_key("printer is broken", fp)
    assert cache_key("printer is broken", fp) != cache_key("printer is fixed", fp)
    assert cache_key("printer is broken", fp) != cache_key("printer is broken", "other|fp")
    assert normalise("  A\tB  ") == "a b"


def test_set_get_persist_across_instances(tmp_path):
    with ResultCache(tmp_path / "c") as cache:
        assert cache.get("k1") is None
        cache.set_many([("k1", {"answer": {"category": "billing"}}), ("k2", {"answer": {}})])
        assert cache.get("k1") == {"answer": {"category": "billing"}}
        assert (cache.hits, cache.misses) == (1, 1)
    with ResultCache(tmp_path / "c") as cache:
        assert cache.get("k2") == {"answer": {}}
        stats = cache.stats()
        assert stats.entries == 2 and stats.size_bytes > 0
        assert cache.clear() == 2
        assert cache.get("k1") is None


def test_ttl_expires_entries(tmp_path):
    with ResultCache(tmp_path / "c", ttl=0.05) as cache:
        cache.set_many([("k", {"answer": {}})])
        assert cache.get("k") is not None
        time.sleep(0.1)
        assert cache.get("k") is None
    with ResultCache(tmp_path / "d", ttl=0) as cache:  # 0 = forever
        assert cache.ttl is None


def test_cache_dir_comes_from_the_settings_then_the_platform(monkeypatch, tmp_path):
    from forge_cli.app.settings import CacheSettings, resolve

    monkeypatch.setenv("FORGE_CACHE_DIR", str(tmp_path / "x"))
    assert resolve(CacheSettings, "cache", cwd=tmp_path).cache_dir == tmp_path / "x"
    monkeypatch.delenv("FORGE_CACHE_DIR")
    assert resolve(CacheSettings, "cache", cwd=tmp_path).cache_dir is None
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert default_cache_dir() == tmp_path / "xdg" / "forge"


def test_get_many_reads_many_keys_at_once_and_leaves_out_missing_and_expired(tmp_path):
    big = {"answer": {"summary": "x" * 70_000}}  # over diskcache's inline limit: kept in a file
    with ResultCache(tmp_path / "c") as cache:
        entries = [(f"k{i}", {"answer": {"n": i}}) for i in range(1_200)]  # several SELECTs
        cache.set_many([*entries, ("big", big)])
        found = cache.get_many([*(k for k, _ in entries), "big", "absent"])
        assert found == {**dict(entries), "big": big}
        assert (cache.hits, cache.misses) == (1_201, 1)
    with ResultCache(tmp_path / "d", ttl=0.05) as cache:
        cache.set_many([("old", {"answer": {}})])
        time.sleep(0.1)
        cache.set_many([("new", {"answer": {}})])
        assert cache.get_many(["old", "new"]) == {"new": {"answer": {}}}
        assert cache.get_many([]) == {}


def test_an_entry_keeps_the_complexity_of_its_text():
    from forge_cli.core.models import Complexity
    from forge_cli.engine.cache import cache_entry, stored_complexity

    entry = cache_entry({"category": "billing"}, "openai", "gpt", Complexity.COMPLEX)
    assert stored_complexity(entry) is Complexity.COMPLEX
    assert stored_complexity({"answer": {}}) is None  # an older forge's entry: estimated again
    assert stored_complexity({"answer": {}, "complexity": "weird"}) is None


def test_bulk_writes_are_entries_diskcache_itself_reads_counts_and_culls(tmp_path):
    import diskcache

    big = {"answer": {"summary": "y" * 40_000}}  # kept in a file of its own
    with ResultCache(tmp_path / "c") as cache:
        cache.set_many([("a", {"answer": {"n": 1}}), ("b", big)])
        cache.set_many([("a", {"answer": {"n": 2}}), ("b", {"answer": {"n": 3}})])  # replaced
        assert cache.get_many(["a", "b"]) == {"a": {"answer": {"n": 2}}, "b": {"answer": {"n": 3}}}
        assert cache.stats().entries == 2
    files = [p for p in (tmp_path / "c").rglob("*.val")]
    assert files == []  # the big value's file went with the value it held
    with diskcache.Cache(str(tmp_path / "c")) as raw:
        assert len(raw) == 2 and raw.volume() > 0
        assert raw.get("a") == b'{"answer":{"n":2}}'


def test_answers_given_in_a_loop_are_committed_at_the_end_of_its_turn(tmp_path):
    import asyncio
    import sqlite3

    def stored() -> int:
        with sqlite3.connect(tmp_path / "c" / "cache.db") as con:
            return int(con.execute("SELECT count(*) FROM Cache").fetchone()[0])

    with ResultCache(tmp_path / "c") as cache:

        async def turn(keys: list[str]) -> tuple[int, int]:
            cache.set_many((k, {"answer": {}}) for k in keys)
            before = stored()  # still waiting: one commit for the whole turn
            await asyncio.sleep(0)
            return before, stored()

        assert asyncio.run(turn(["a", "b"])) == (0, 2)

        async def ends_at_once() -> None:  # asyncio.run's shutdown still gives it its turn
            cache.set_many([("c", {"answer": {}})])

        asyncio.run(ends_at_once())
        assert stored() == 3
        assert asyncio.run(turn(["d"])) == (3, 4)  # and a new loop gets a commit of its own
