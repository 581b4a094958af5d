"""Text rendered once with holes in it, filled many times.

Most of what the site sends differs between two sends only in a few places:
a campaign page between two visitors (its count, its recent signers), an
email between two recipients (a name, a link). A template is rendered once
with a marker in each such place (a *slot*); each send is that skeleton with
the values put in, which costs a string join instead of a render. Slot
markers are random per process, so no text a person can type (a campaign
title, a name) can stand in for one."""
from __future__ import annotations

import re
import secrets
from collections.abc import Mapping

_PROCESS_MARK = secrets.token_hex(6)


def slot(name: str) -> str:
    """The marker for the value ``name`` (letters only): put it in a
    template's context where the value goes."""
    return f"zq{_PROCESS_MARK}{name}qz"


_ANY_SLOT = re.compile(f"zq{_PROCESS_MARK}([a-z]+)qz")


class Skeleton:
    """A rendered text split at its slots."""

    __slots__ = ("_literals", "_names")

    def __init__(self, text: str):
        pieces = _ANY_SLOT.split(text)
        # literal, name, literal, name, ..., literal
        self._literals = tuple(pieces[0::2])
        self._names = tuple(pieces[1::2])

    @property
    def slots(self) -> frozenset[str]:
        return frozenset(self._names)

    def fill(self, values: Mapping[str, str]) -> str:
        """The text with each slot's value put in. Values go in as they
        are: escape them first where the text is HTML."""
        literals, out = self._literals, [self._literals[0]]
        for at, name in enumerate(self._names, 1):
            out.append(values[name])
            out.append(literals[at])
        return "".join(out)
