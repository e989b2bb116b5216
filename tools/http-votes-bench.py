#!/usr/bin/env python3
"""Votes accepted over HTTP per second: logs in to a running `hiwar demo` with one of
its invitation codes and casts votes (agree/disagree alternately, so each is a real
change) as fast as one keep-alive connection allows, through the same form a browser
posts (CSRF token included). Usage: tools/http-votes-bench.py URL DIALOGUE CODE [N]"""
import http.client
import re
import sys
import time
import urllib.parse


def main():
    url, dialogue, code = sys.argv[1:4]
    n = int(sys.argv[4]) if len(sys.argv) > 4 else 2000
    host = urllib.parse.urlparse(url).netloc
    conn = http.client.HTTPConnection(host)
    cookies = {}

    def request(method, path, fields=None):
        body = urllib.parse.urlencode(fields) if fields is not None else None
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in cookies.items())}
        if body is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        conn.request(method, path, body=body, headers=headers)
        r = conn.getresponse()
        data = r.read().decode()
        for value in r.headers.get_all("Set-Cookie") or []:
            k, v = value.split(";")[0].split("=", 1)
            cookies[k] = v
        return r.status, data

    request("GET", "/login")
    status, _ = request("POST", "/login", {"csrf": cookies["hiwar_csrf"], "code": code, "pseudonym": "Bench voter"})
    assert status == 200, status
    _, page = request("GET", f"/dialogues/{dialogue}/deliberation")
    path = re.search(r'action="(/dialogues/[^"]+/vote)"', page).group(1)
    started = time.perf_counter()
    for i in range(n):
        status, _ = request("POST", path, {"csrf": cookies["hiwar_csrf"], "vote": "agree" if i % 2 else "disagree"})
        assert status == 303, status
    seconds = time.perf_counter() - started
    print(f"{n} votes in {seconds:.2f} s: {n / seconds:.0f} votes/s on one connection")


if __name__ == "__main__":
    main()
