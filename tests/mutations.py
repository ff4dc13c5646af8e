"""Real answers differ from the documents' examples: a field left out, a null, an empty string,
a code no document lists, an empty list, a time without its offset. `mutations` makes each of
those at each place of a golden payload, one at a time, for the adapters' robustness tests."""

from __future__ import annotations

import copy
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

UNDOCUMENTED = "ZZ_NOT_IN_ANY_DOCUMENT"
OFFSET = re.compile(r"^(\d{4}-\d\d-\d\d[T ]\d\d:\d\d(:\d\d(\.\d+)?)?)(Z|[+-]\d\d:?\d\d)$")
NO_OFFSET = "no offset"
_LEFT_OUT = object()

Path = tuple[Any, ...]


@dataclass(frozen=True)
class Mutation:
    way: str
    path: Path
    document: Any

    @property
    def where(self) -> str:
        return f"{self.way} at {'.'.join(map(str, self.path))}"

    @property
    def inside_item(self) -> bool:
        """Inside one item of a list (a parcel, an event, a line), not the envelope."""
        return any(isinstance(key, int) for key in self.path)


def places(node: Any, path: Path = ()) -> Iterator[tuple[Path, Any]]:
    """Every (path, value) below `node`, the containers before their contents."""
    items = node.items() if isinstance(node, dict) else enumerate(node)
    for key, value in items:
        yield (*path, key), value
        if isinstance(value, dict | list):
            yield from places(value, (*path, key))


def mutations(document: Any) -> Iterator[Mutation]:
    """Each way real answers differ, at each place of `document` (left untouched)."""
    for path, value in list(places(document)):
        ways: list[tuple[str, Any]] = [("null", None)]
        if isinstance(value, list):
            ways.append(("empty list", []))
        elif value is not None and not isinstance(value, dict):
            ways += [("empty", ""), ("undocumented", UNDOCUMENTED)]
        if isinstance(value, str) and (stamp := OFFSET.match(value)):
            ways.append((NO_OFFSET, stamp.group(1)))
        if isinstance(path[-1], str):
            ways.append(("left out", _LEFT_OUT))
        for way, replacement in ways:
            mutated = copy.deepcopy(document)
            parent = mutated
            for key in path[:-1]:
                parent = parent[key]
            if replacement is _LEFT_OUT:
                del parent[path[-1]]
            else:
                parent[path[-1]] = replacement
            yield Mutation(way, path, mutated)
