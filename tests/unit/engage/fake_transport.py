"""A scripted requests transport: mount it on a session, queue answers, read what was sent.

The client under test is the real one; only the network is replaced.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import requests
from requests.adapters import BaseAdapter
from requests.structures import CaseInsensitiveDict

BASE_URL = "https://tenant.engage.test"


@dataclass
class Sent:
    method: str
    url: str
    headers: Mapping[str, str]
    body: bytes | None
    timeout: Any
    verify: Any
    allow_redirects: bool | None = None

    def json(self) -> Any:
        assert self.body is not None
        return json.loads(self.body)


@dataclass
class FakeTransport(BaseAdapter):
    """Answers requests in order from ``script``: (status, body, headers) tuples or exceptions to raise."""

    script: list[tuple[int, Any, dict[str, str]] | BaseException] = field(default_factory=list)
    sent: list[Sent] = field(default_factory=list)

    def __post_init__(self) -> None:
        super().__init__()

    def reply(self, status: int, body: Any = None, headers: dict[str, str] | None = None) -> FakeTransport:
        self.script.append((status, body, headers or {}))
        return self

    def fail(self, exc: BaseException) -> FakeTransport:
        self.script.append(exc)
        return self

    def send(
        self,
        request: requests.PreparedRequest,
        stream: bool = False,
        timeout: Any = None,
        verify: Any = True,
        cert: Any = None,
        proxies: Any = None,
    ) -> requests.Response:
        body = request.body.encode() if isinstance(request.body, str) else request.body
        self.sent.append(
            Sent(str(request.method), str(request.url), dict(request.headers), body, timeout, verify)
        )
        if not self.script:
            raise AssertionError(f"unexpected request #{len(self.sent)}: {request.method}")
        step = self.script.pop(0)
        if isinstance(step, BaseException):
            raise step
        status, payload, headers = step
        response = requests.Response()
        response.status_code = status
        response.request = request
        response.url = str(request.url)
        if isinstance(payload, bytes):
            content = payload
        elif payload is None:
            content = b""
        else:
            content = json.dumps(payload).encode()
            headers = {"Content-Type": "application/json", **headers}
        response._content = content
        response.headers = CaseInsensitiveDict(headers)
        return response

    def close(self) -> None:
        return None


def session_with(transport: FakeTransport) -> requests.Session:
    session = requests.Session()
    session.mount("https://", transport)
    session.mount("http://", transport)
    return session
