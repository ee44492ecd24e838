"""Real local servers standing in for the outside world in the channel tests: the WeChat API (the one
thing the tests imitate, from its documented JSON) and a bridge's reply URL. Both listen on 127.0.0.1."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse


class _Recorder(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, handler):
        super().__init__(("127.0.0.1", 0), handler)
        self.requests: list[dict] = []
        self.responses: list[tuple[int, dict]] = []  # queued answers for the next POSTs
        self.token_calls = 0
        self.token = "ACCESS_TOKEN_1"

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def __enter__(self):
        threading.Thread(target=self.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc):
        self.shutdown()
        self.server_close()


class _WeChatHandler(BaseHTTPRequestHandler):
    """GET /cgi-bin/token and POST /cgi-bin/message/custom/send as mp.weixin.qq.com documents them."""

    def log_message(self, *args):
        pass

    def _json(self, status: int, payload: dict) -> None:
        body = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        url = urlparse(self.path)
        query = {key: values[0] for key, values in parse_qs(url.query).items()}
        self.server.requests.append({"method": "GET", "path": url.path, "query": query})
        if url.path == "/cgi-bin/token":
            if query.get("grant_type") != "client_credential" or query.get("secret") != "app-secret":
                return self._json(200, {"errcode": 40125, "errmsg": "invalid appsecret"})
            self.server.token_calls += 1
            self.server.token = f"ACCESS_TOKEN_{self.server.token_calls}"
            return self._json(200, {"access_token": self.server.token, "expires_in": 7200})
        return self._json(404, {"errcode": 404})

    def do_POST(self):
        url = urlparse(self.path)
        query = {key: values[0] for key, values in parse_qs(url.query).items()}
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.server.requests.append(
            {"method": "POST", "path": url.path, "query": query, "json": json.loads(body or b"{}")}
        )
        if self.server.responses:
            status, payload = self.server.responses.pop(0)
            return self._json(status, payload)
        if query.get("access_token") != self.server.token:
            return self._json(200, {"errcode": 40001, "errmsg": "invalid credential"})
        return self._json(200, {"errcode": 0, "errmsg": "ok"})


class _BridgeHandler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.server.requests.append({"path": self.path, "headers": dict(self.headers), "body": body})
        status = self.server.responses.pop(0)[0] if self.server.responses else 200
        self.send_response(status)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")


def wechat_api() -> _Recorder:
    return _Recorder(_WeChatHandler)


def bridge() -> _Recorder:
    return _Recorder(_BridgeHandler)
