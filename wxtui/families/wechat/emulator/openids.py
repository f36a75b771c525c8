"""The emulator's openid column: every follower's openid without an object per follower.

An account's openids share its prefix, so a row keeps only its tail: all tails sit in one
bytearray (22 bytes a row), and an open-addressing table of row numbers, keyed by the tail's
hash, answers "which row has this openid". At a million followers that is ~30 MB, where a
list of openid strings and a dict from openid to row held ~160 MB. The order of the rows is
the order followers were added: the order user/get pages them in.
"""

from __future__ import annotations

from array import array
from typing import Iterator

from wxtui.families.wechat import limits

TAIL = limits.OPENID_LENGTH - limits.OPENID_PREFIX_LENGTH
_EMPTY = -1
_ITER_CHUNK = 4096


class DuplicateOpenid(ValueError):
    pass


class OpenidColumn:
    """Openids of one prefix in row order; `get` finds an openid's row, `column[i]` the row's openid."""

    def __init__(self, prefix: str, tails: str = ""):
        if len(prefix) != limits.OPENID_PREFIX_LENGTH:
            raise ValueError(f"an openid prefix is {limits.OPENID_PREFIX_LENGTH} characters")
        self.prefix = prefix
        self._tails = bytearray()
        self._rows = 0
        self._slots = array("i", [_EMPTY]) * 8
        self._duplicates = False
        if tails:
            self.extend(tails)

    def __len__(self) -> int:
        return self._rows

    def __getitem__(self, key):
        if isinstance(key, slice):
            start, stop, step = key.indices(self._rows)
            if step != 1:
                return [self[i] for i in range(start, stop, step)]
            return self._decode(start, stop)
        i = key + self._rows if key < 0 else key
        if not 0 <= i < self._rows:
            raise IndexError("openid row out of range")
        return self.prefix + self._tails[i * TAIL:(i + 1) * TAIL].decode("ascii")

    def __iter__(self) -> Iterator[str]:
        for start in range(0, self._rows, _ITER_CHUNK):
            yield from self._decode(start, min(self._rows, start + _ITER_CHUNK))

    def _decode(self, start: int, stop: int) -> list[str]:
        if stop <= start:
            return []
        text, prefix = self._tails[start * TAIL:stop * TAIL].decode("ascii"), self.prefix
        return [prefix + text[k:k + TAIL] for k in range(0, len(text), TAIL)]

    def tails(self) -> bytes:
        """Every row's tail, in row order (the kept state's column)."""
        return bytes(self._tails)

    def get(self, openid: object) -> int | None:
        """The row of this openid, or None."""
        if type(openid) is not str or len(openid) != limits.OPENID_LENGTH or not openid.startswith(self.prefix):
            return None
        tail = openid[limits.OPENID_PREFIX_LENGTH:]
        try:
            wanted = tail.encode("ascii")
        except UnicodeEncodeError:
            return None
        slots, tails = self._slots, self._tails
        mask = len(slots) - 1
        j = hash(tail) & mask
        while (row := slots[j]) != _EMPTY:
            if tails[row * TAIL:(row + 1) * TAIL] == wanted:
                return row
            j = (j + 1) & mask
        return None

    def __contains__(self, openid: object) -> bool:
        return self.get(openid) is not None

    def extend(self, tails: str) -> None:
        """Append rows (their tails concatenated, TAIL ASCII characters each). DuplicateOpenid,
        and nothing appended, when one is already a row or comes twice."""
        if len(tails) % TAIL or not tails.isascii():
            raise ValueError(f"openid tails are {TAIL} ASCII characters each")
        first, added = self._rows, len(tails) // TAIL
        self._tails += tails.encode("ascii")
        self._rows += added
        if 2 * self._rows > len(self._slots):
            self._rehash()  # every row, the new ones included
            if self._duplicates:
                self._undo(first)
            return
        try:
            self._insert(first, self._rows, tails)
        except DuplicateOpenid:
            self._undo(first)

    def _undo(self, first: int) -> None:
        del self._tails[first * TAIL:]
        self._rows = first
        self._rehash()
        raise DuplicateOpenid("openid collision")

    def _rehash(self) -> None:
        size = 8
        while size < 2 * self._rows:
            size *= 2
        self._slots = array("i", [_EMPTY]) * size
        self._duplicates = False
        try:
            self._insert(0, self._rows, self._tails.decode("ascii"))
        except DuplicateOpenid:
            self._duplicates = True

    def _insert(self, first: int, stop: int, text: str) -> None:
        """Put rows first..stop into the table; `text` holds their tails from its start."""
        slots, tails = self._slots, self._tails
        mask = len(slots) - 1
        for row, k in zip(range(first, stop), range(0, (stop - first) * TAIL, TAIL)):
            tail = text[k:k + TAIL]
            j = hash(tail) & mask
            while (other := slots[j]) != _EMPTY:
                if tails[other * TAIL:(other + 1) * TAIL] == tails[row * TAIL:(row + 1) * TAIL]:
                    raise DuplicateOpenid(self.prefix + tail)
                j = (j + 1) & mask
            slots[j] = row
