"""A collection of a document's outline and the entries RFC 6902 operations leave it with.

The editor (``edit``) keeps one ``View`` per original collection an operation
reaches. Its ``children`` are the live entries in order, each ``ORIGINAL``
(its text stays), ``REPLACED`` (its key stays, its value is written anew) or
``NEW`` (written from the value); removed originals are kept apart:

    env: [A, B]   + add /env/1 C, remove /env/0   ->   children [NEW C, ORIGINAL B], removed [A]
"""

from __future__ import annotations

TYPE_CHECKING = False  # (typing is not imported at run time: start-up cost)
if TYPE_CHECKING:
    from typing import Any

    from postrenderer.write.outline import Node

ORIGINAL, NEW, REPLACED = "original", "new", "replaced"


_UNKNOWN: Any = object()


class Child:
    """One entry of a collection as the operations leave it."""

    __slots__ = ("_key", "key_node", "node", "state", "value")

    def __init__(self, key: Any, key_node: Node | None, node: Node | None, state: str, value: Any = None) -> None:
        self._key, self.key_node, self.node, self.state, self.value = key, key_node, node, state, value

    @property
    def key(self) -> str | None:
        """The entry's key (an original entry's is read from its node when first asked for)."""
        if self._key is _UNKNOWN:
            self._key = self.key_node.key() if self.key_node is not None else None
        return self._key  # type: ignore[no-any-return]


class View:
    """An original collection and the entries it ends up with."""

    __slots__ = ("children", "node", "parent_key", "removed", "spelled")

    def __init__(self, node: Node, parent_key: Node | None) -> None:
        self.node, self.parent_key = node, parent_key
        if node.kind == "map":
            self.children = [Child(_UNKNOWN, k, v, ORIGINAL) for k, v in node.items]
        else:
            self.children = [Child(None, None, v, ORIGINAL) for v in node.items]
        self.removed: list[Child] = []
        self.spelled: dict[str, list[Child]] | None = None  # original entries by their key's text, when needed

    def find(self, key: str) -> Child | None:
        """The live entry with this key (a mapping's)."""
        if self.spelled is None:
            self.spelled = {}
            for child in self.children:
                if child.key_node is not None:
                    self.spelled.setdefault(child.key_node.value, []).append(child)
        candidates = [c for c in self.spelled.get(key, []) if c.key == key]
        candidates += [c for c in self.children if c.key_node is None and c.key == key]  # (entries added since)
        return next((c for c in candidates if c in self.children), None) if candidates else None



