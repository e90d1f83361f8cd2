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
