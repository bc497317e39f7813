"""Drives ragkv with redis-py (Debian python3-redis). Exits non-zero on failure.

Usage: /usr/bin/python3 redis_py_check.py <port>
"""
import sys

import redis


def main(port):
    r = redis.Redis(host="127.0.0.1", port=port, socket_timeout=5)
    assert r.ping() is True
    assert r.set("py:k", b"v\x00\xff", ex=100) is True
    assert r.get("py:k") == b"v\x00\xff"
    assert r.ttl("py:k") == 100
    assert r.incrbyfloat("py:f", 1.5) == 1.5
    assert r.hset("py:h", mapping={"a": "1", "b": "2"}) == 2
    assert r.hgetall("py:h") == {b"a": b"1", b"b": b"2"}
    assert r.zadd("py:z", {"a": 1, "b": 2, "c": 3}) == 3
    assert r.zrange("py:z", 0, -1, withscores=True) == [(b"a", 1.0), (b"b", 2.0), (b"c", 3.0)]
    assert r.zrangebyscore("py:z", "(1", "+inf") == [b"b", b"c"]
    assert r.zscore("py:z", "b") == 2.0
    with r.pipeline() as p:
        p.set("py:t", 1).incr("py:t").get("py:t")
        assert p.execute() == [True, 2, b"2"]
    # Optimistic locking with WATCH, as redis-py's transaction() helper does.
    def incr_twice(pipe):
        v = int(pipe.get("py:t"))
        pipe.multi()
        pipe.set("py:t", v + 2)
    r.transaction(incr_twice, "py:t")
    assert r.get("py:t") == b"4"
    keys = set(r.scan_iter(match="py:*", count=2))
    assert keys == {b"py:k", b"py:f", b"py:h", b"py:z", b"py:t"}, keys
    try:
        r.hget("py:k", "x")
        raise AssertionError("expected WRONGTYPE")
    except redis.ResponseError as e:
        assert str(e).startswith("WRONGTYPE"), e
    info = r.info()
    assert info["redis_version"] and info["connected_clients"] >= 1
    assert r.config_get("maxmemory") == {"maxmemory": "0"}
    assert r.client_setname("py-client") is True
    assert r.client_getname() == "py-client"
    print("redis-py ok")


if __name__ == "__main__":
    main(int(sys.argv[1]))
