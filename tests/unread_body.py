"""A request body that fails the test if anyone reads it: proves a refusal came from the
headers alone (the audit's 400 MiB uploads were read in full before being refused)."""

from __future__ import annotations

import io

MiB = 1024 * 1024


class UnreadBody(io.RawIOBase):
    """`size` bytes as far as seeking can tell (werkzeug's test client measures the stream
    for Content-Length); reading any of them records it and fails."""

    def __init__(self, size: int) -> None:
        self.size, self.position, self.read_from = size, 0, False

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self.position, io.SEEK_END: self.size}[whence]
        self.position = base + offset
        return self.position

    def readinto(self, buffer) -> int:
        self.read_from = True
        raise AssertionError("the request body was read")


def post_unread(client, path: str, length: int, **kwargs):
    """POST declaring `length` bytes of body that is never there; returns (response, body)."""
    body = UnreadBody(length)
    response = client.post(path, input_stream=body, **kwargs)
    return response, body
