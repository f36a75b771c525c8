"""The one-line query a person types in the filter bar, to a Filter and back.

    tag:VIP tag:广东 -tag:Staff scene:qr_code followed:2024-01-01..2024-06-30 lang:zh_CN 李

Terms are separated by spaces and all of them must hold (AND). `tag:A|B` is any of A and B;
several `tag:` terms are all of them; `-tag:X` excludes X. `untagged`, `blacklisted`,
`-blacklisted`. `scene:` and `lang:` take `|` alternatives. `followed:FROM..TO` takes days
(YYYY-MM-DD, UTC, both ends included; either end may be left out; one day alone is that day).
Anything else is text: the remark contains it or the openid starts with it (bare words are
joined by one space). Double quotes take a name or text literally, spaces and all; a backslash
inside them takes the next character literally. Unquoted, `#123` is the tag of id 123.

parse() never raises on what a person types: a bad query comes back as a QueryError naming the
bad token and its position, so the app can point at it. format() writes a Filter back as the
query that parses to it. Pure Python, no store access: callers pass the tag names.
"""

from __future__ import annotations

import calendar
import datetime
import re
import time
from dataclasses import dataclass, field

from .filters import Filter

DAY = 86_400
SCENE_PREFIX = "ADD_SCENE_"
KEYS = ("tag", "scene", "followed", "lang")
WORDS = ("untagged", "blacklisted")
_DATE_RE = re.compile(r"\d{4}-\d{2}-\d{2}")
_SCENE_RE = re.compile(r"[A-Za-z0-9_]+")
_TAG_ID_RE = re.compile(r"#(\d{1,18})")
# Characters that make a word mean something else than text, or break it into several.
_SPECIAL = frozenset('"\\:|')

SYNTAX_HELP = """\
Terms, all of which must hold (separated by spaces):
  tag:VIP            carries the tag VIP
  tag:VIP|Gold       carries VIP or Gold (several tag: terms: all of them)
  -tag:Staff         does not carry Staff
  untagged           carries no tag
  blacklisted        on the blacklist; -blacklisted: not on it
  scene:qr_code      followed from a QR code; scene:search|paid: either
  lang:zh_CN         language zh_CN
  followed:2024-01-01..2024-06-30
                     followed in those days (either end may be left out)
  李, "Li Wei"       the remark contains it, or the openid starts with it
Names with spaces go in double quotes: tag:"Big spenders"."""


@dataclass(frozen=True, slots=True)
class QueryError:
    """What is wrong, and where: start and end are offsets of the bad token in the query."""

    message: str
    start: int
    end: int

    def pointer(self, query: str) -> str:
        """A line of carets under the bad token, for a monospaced terminal (wide characters
        count two columns)."""
        from rich.cells import cell_len

        before = cell_len(query[: self.start])
        width = max(1, cell_len(query[self.start : self.end]))
        return " " * before + "^" * width


@dataclass(frozen=True, slots=True)
class Parsed:
    """The query's filter, or the first error in it (then filter is None)."""

    filter: Filter | None
    error: QueryError | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass(slots=True)
class _Value:
    text: str
    start: int
    end: int
    quoted: bool


@dataclass(slots=True)
class _Term:
    start: int
    end: int
    negated: bool
    key: str | None  # None: a bare word
    values: list[_Value] = field(default_factory=list)
    raw: str = ""  # a bare word as written, quotes resolved


class _Bad(Exception):
    def __init__(self, message: str, start: int, end: int):
        super().__init__(message)
        self.error = QueryError(message, start, end)


# -- reading ------------------------------------------------------------------------------------

def _terms(query: str) -> list[_Term]:
    """Split into terms; each keyed term's value into its `|` alternatives."""
    terms = []
    i, n = 0, len(query)
    while i < n:
        if query[i].isspace():
            i += 1
            continue
        start = i
        # Characters of the term with whether each was quoted, and where each came from.
        chars: list[tuple[str, bool, int]] = []
        while i < n and not query[i].isspace():
            if query[i] == '"':
                quote_at = i
                i += 1
                while True:
                    if i >= n:
                        raise _Bad('a quote is not closed: add " at the end', quote_at, n)
                    c = query[i]
                    if c == '"':
                        i += 1
                        break
                    if c == "\\" and i + 1 < n:
                        i += 1
                        c = query[i]
                    chars.append((c, True, i))
                    i += 1
                # An empty pair of quotes still marks a value as quoted.
                chars.append(("", True, i))
            else:
                chars.append((query[i], False, i))
                i += 1
        terms.append(_term(query, start, i, chars))
    return terms


def _term(query: str, start: int, end: int, chars: list[tuple[str, bool, int]]) -> _Term:
    negated = bool(chars) and chars[0] == ("-", False, start)
    body = chars[1:] if negated else chars
    colon = next((k for k, (c, quoted, _) in enumerate(body) if c == ":" and not quoted), None)
    key_chars = body[:colon] if colon is not None else []
    key = "".join(c for c, _, _ in key_chars).lower() if colon is not None else None
    if key is not None and (not key or any(q for _, q, _ in key_chars)):
        key = None
    raw = "".join(c for c, _, _ in chars)
    if key is None:
        if negated and not any(q for _, q, _ in body) and raw[1:].lower() in WORDS:
            return _Term(start, end, True, None, raw=raw[1:])
        quoted = any(q for _, q, _ in chars)
        return _Term(start, end, False, None, [_Value(raw, start, end, quoted)], raw=raw)
    if key not in KEYS:
        key_start = key_chars[0][2]
        raise _Bad(f"no field {key}: (fields: tag:, scene:, followed:, lang:; quote text with a colon: "
                   f'"{raw}")', key_start, key_start + len(key) + 1)
    values: list[_Value] = []
    piece: list[tuple[str, bool, int]] = []
    rest = body[colon + 1:]
    value_start = body[colon][2] + 1
    for k, (c, quoted, at) in enumerate(rest + [("|", False, end)]):
        if c == "|" and not quoted:
            text = "".join(ch for ch, _, _ in piece)
            values.append(_Value(text, value_start, at, any(q for _, q, _ in piece)))
            piece = []
            value_start = at + 1
        else:
            piece.append((c, quoted, at))
    return _Term(start, end, negated, key, values, raw=raw)


def parse(query: str, tag_names: dict[int, str] | None = None) -> Parsed:
    """The Filter the query means, or the first error in it. Never raises."""
    try:
        return Parsed(_parse(query, tag_names or {}))
    except _Bad as bad:
        return Parsed(None, bad.error)
    except Exception as exc:  # a bug here must not take the filter bar down with it
        return Parsed(None, QueryError(f"this query could not be read ({type(exc).__name__})", 0, len(query)))


def _parse(query: str, tag_names: dict[int, str]) -> Filter:
    tags: list[frozenset[int]] = []
    tag_terms: list[_Term] = []
    not_tags: set[int] = set()
    untagged = False
    blacklisted: bool | None = None
    words: list[str] = []
    scenes: frozenset[str] | None = None
    languages: frozenset[str] | None = None
    subscribed_from: int | None = None
    subscribed_to: int | None = None
    for term in _terms(query):
        if term.key is None:
            word = term.raw.lower()
            quoted = term.values and term.values[0].quoted
            if not quoted and word in WORDS:
                if word == "untagged":
                    if term.negated:
                        raise _Bad("-untagged is not a filter: use tag:A|B for followers with a tag",
                                   term.start, term.end)
                    untagged = True
                else:
                    wanted = not term.negated
                    if blacklisted is not None and blacklisted != wanted:
                        raise _Bad("blacklisted and -blacklisted together match nobody",
                                   term.start, term.end)
                    blacklisted = wanted
                continue
            if not quoted and term.raw.startswith("-"):
                raise _Bad(f'- goes only before tag: or blacklisted; quote text that starts with it: "{term.raw}"',
                           term.start, term.start + 1)
            words.append(term.raw)
            continue
        _check_values(term)
        if term.key == "tag":
            ids = frozenset(_tag_id(v, tag_names) for v in term.values)
            if term.negated:
                not_tags |= ids
            else:
                tags.append(ids)
                tag_terms.append(term)
            continue
        if term.negated:
            raise _Bad(f"- goes only before tag: or blacklisted, not {term.key}:", term.start, term.start + 1)
        if term.key == "scene":
            found = frozenset(_scene(v) for v in term.values)
            if scenes is not None:
                raise _Bad("a follower has one scene: write scene:A|B for either", term.start, term.end)
            scenes = found
        elif term.key == "lang":
            if languages is not None:
                raise _Bad("a follower has one language: write lang:A|B for either", term.start, term.end)
            languages = frozenset(v.text for v in term.values)
        else:
            if len(term.values) > 1:
                bad = term.values[1]
                raise _Bad("followed: takes one range of days (FROM..TO)", bad.start - 1, bad.end)
            start, end = _days(term.values[0])
            if start is not None:
                subscribed_from = start if subscribed_from is None else max(subscribed_from, start)
            if end is not None:
                subscribed_to = end if subscribed_to is None else min(subscribed_to, end)
            if subscribed_from is not None and subscribed_to is not None and subscribed_from >= subscribed_to:
                raise _Bad("no day is in this range and the other followed: terms", term.start, term.end)
    if len(tags) > 1 and any(len(t) > 1 for t in tags):
        term = next(t for t, ids in zip(tag_terms, tags) if len(ids) > 1)
        raise _Bad("tag:A|B (any of) cannot be combined with another tag: term", term.start, term.end)
    all_tags = frozenset().union(*tags) if tags else frozenset()
    return Filter(
        tags=all_tags, match_all_tags=len(tags) > 1 and len(all_tags) > 1, not_tags=frozenset(not_tags),
        untagged=untagged, blacklisted=blacklisted, text=" ".join(words), scenes=scenes or frozenset(),
        languages=languages or frozenset(), subscribed_from=subscribed_from, subscribed_to=subscribed_to)


def _check_values(term: _Term) -> None:
    for value in term.values:
        if not value.text and not value.quoted:
            where = value.start if value.end > value.start else max(term.start, value.start - 1)
            raise _Bad(f"{term.key}: needs a value here", where, max(value.end, where + 1))


def _tag_id(value: _Value, tag_names: dict[int, str]) -> int:
    if not value.quoted:
        m = _TAG_ID_RE.fullmatch(value.text)
        if m:
            return int(m.group(1))
    exact = [t for t, name in tag_names.items() if name == value.text]
    if len(exact) == 1:
        return exact[0]
    folded = [t for t, name in tag_names.items() if name.casefold() == value.text.casefold()]
    if len(folded) == 1:
        return folded[0]
    if len(exact) > 1 or len(folded) > 1:
        ids = ", ".join(f"#{t}" for t in sorted(exact or folded))
        raise _Bad(f"several tags are named {value.text!r}: write one by id ({ids})", value.start, value.end)
    near = [name for name in tag_names.values() if value.text.casefold() in name.casefold()][:3]
    hint = f" (did you mean {', '.join(repr(n) for n in near)}?)" if near and value.text else ""
    return _raise(f"no tag named {value.text!r}{hint}", value)


def _raise(message: str, value: _Value):
    raise _Bad(message, value.start, max(value.end, value.start + 1))


def _scene(value: _Value) -> str:
    text = value.text
    if not _SCENE_RE.fullmatch(text):
        _raise(f"not a scene: {text!r} (e.g. qr_code, search, paid)", value)
    text = text.upper()
    return text if text.startswith(SCENE_PREFIX) else SCENE_PREFIX + text


def _days(value: _Value) -> tuple[int | None, int | None]:
    text = value.text
    if ".." not in text:
        day = _day(text, value, value.start)
        return day, day + DAY
    first, _, last = text.partition("..")
    if not first and not last:
        _raise("followed: needs a day on at least one side of ..", value)
    start = _day(first, value, value.start) if first else None
    end = _day(last, value, value.start + len(first) + 2) + DAY if last else None
    if start is not None and end is not None and start >= end:
        _raise("the range ends before it starts", value)
    return start, end


def _day(text: str, value: _Value, at: int) -> int:
    bad = _Value(text, at, at + len(text), value.quoted) if not value.quoted else value
    if not _DATE_RE.fullmatch(text):
        _raise(f"not a day: {text!r} (YYYY-MM-DD)", bad)
    try:
        return calendar.timegm(time.strptime(text, "%Y-%m-%d"))
    except (ValueError, OverflowError):
        return _raise(f"no such day: {text}", bad)


# -- writing ------------------------------------------------------------------------------------

def format(flt: Filter, tag_names: dict[int, str] | None = None) -> str:  # noqa: A001 - the inverse of parse
    """The query that parses back to flt (given the same tag names)."""
    names = tag_names or {}
    taken: dict[str, int] = {}
    for name in names.values():
        taken[name.casefold()] = taken.get(name.casefold(), 0) + 1

    def tag(t: int) -> str:
        name = names.get(t)
        if name is None or taken[name.casefold()] > 1:
            return f"#{t}"
        return quote(name, for_value=True)

    def ordered(ids) -> list[int]:
        return sorted(ids, key=lambda t: (names.get(t, "").casefold(), t))

    parts = []
    if flt.tags:
        if flt.match_all_tags:
            parts += [f"tag:{tag(t)}" for t in ordered(flt.tags)]
        else:
            parts.append("tag:" + "|".join(tag(t) for t in ordered(flt.tags)))
    parts += [f"-tag:{tag(t)}" for t in ordered(flt.not_tags)]
    if flt.untagged:
        parts.append("untagged")
    if flt.blacklisted is not None:
        parts.append("blacklisted" if flt.blacklisted else "-blacklisted")
    if flt.scenes:
        parts.append("scene:" + "|".join(_scene_word(s) for s in sorted(flt.scenes)))
    if flt.languages:
        parts.append("lang:" + "|".join(quote(lang, for_value=True) for lang in sorted(flt.languages)))
    if flt.subscribed_from is not None or flt.subscribed_to is not None:
        start = _format_day(flt.subscribed_from) if flt.subscribed_from is not None else ""
        end = _format_day(flt.subscribed_to - DAY) if flt.subscribed_to is not None else ""
        parts.append(f"followed:{start}" if start and start == end else f"followed:{start}..{end}")
    if flt.text:
        parts.append(_text(flt.text))
    return " ".join(parts)


def absent_values(flt: Filter, scenes: set[str] | None, languages: set[str] | None) -> str:
    """Why a filter matches nobody when that is because no follower has one of its scenes or
    languages (scenes and languages: those the cache holds, None when unknown): a typo such as
    scene:qrcode otherwise reads as an account where nobody came from a QR code. "" otherwise."""
    said = []
    if flt.scenes and scenes is not None and not flt.scenes & scenes:
        words = [_scene_word(s) for s in sorted(scenes)]
        asked = [_scene_word(s) for s in sorted(flt.scenes)]
        said.append(f"no follower has scene:{'|'.join(asked)} ({_closest(asked, words)}scenes here: "
                    f"{', '.join(words) or 'none'})")
    if flt.languages and languages is not None and not flt.languages & languages:
        words = sorted(lang for lang in languages if lang)
        asked = sorted(flt.languages)
        said.append(f"no follower has lang:{'|'.join(asked)} ({_closest(asked, words)}languages here: "
                    f"{', '.join(words) or 'none'})")
    return "; ".join(said)


def _closest(asked: list[str], held: list[str]) -> str:
    """'did you mean qr_code? ' for scene:qrcode: said first, as the list may be cut on screen."""
    import difflib

    near = [m for a in asked for m in difflib.get_close_matches(a.casefold(), [h.casefold() for h in held], 1, 0.6)]
    names = {h.casefold(): h for h in held}
    return f"did you mean {', '.join(dict.fromkeys(names[m] for m in near))}? " if near else ""


def _scene_word(scene: str) -> str:
    short = scene.removeprefix(SCENE_PREFIX)
    return short.lower() if short and _SCENE_RE.fullmatch(short) and short.upper() == short else scene


def _format_day(ts: int) -> str:
    # Not strftime: it writes the year 999 as "999", which does not read back as a day.
    day = datetime.datetime(1970, 1, 1) + datetime.timedelta(seconds=ts)
    return f"{day.year:04d}-{day.month:02d}-{day.day:02d}"


def quote(text: str, *, for_value: bool = False) -> str:
    """text as written in a query: bare when that reads back the same, else in double quotes."""
    bare = (text and not any(c.isspace() or c in _SPECIAL for c in text)
            and not (for_value and _TAG_ID_RE.fullmatch(text)))
    if not for_value:
        bare = bare and not text.startswith("-") and text.lower() not in WORDS
    if bare:
        return text
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _text(text: str) -> str:
    if all(word and quote(word) == word for word in text.split(" ")):
        return text
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


# -- completing ---------------------------------------------------------------------------------

def complete(query: str, tag_names: dict[int, str] | None = None) -> str | None:
    """The query with its last term completed (a tag name after tag:, a field or word), or None
    when there is nothing to add. The app shows it as a suggestion while a person types."""
    if not query or query[-1].isspace():
        return None
    head, _, last = query.rpartition(" ")
    lead = head + " " if head or query.startswith(" ") else ""
    negated = last.startswith("-")
    body = last[1:] if negated else last
    sign = "-" if negated else ""
    if ":" not in body:
        options = [k + ":" for k in (("tag",) if negated else KEYS)] + [
            w for w in WORDS if not negated or w == "blacklisted"]
        hit = next((o for o in options if o.startswith(body.lower()) and o != body.lower()), None)
        return lead + sign + hit if hit and body else None
    key, _, value = body.partition(":")
    if key.lower() != "tag":
        return None
    done, _, typed = value.rpartition("|")
    prefix = typed.lstrip('"').casefold()
    for name in sorted(tag_names.values(), key=str.casefold) if tag_names else ():
        if name.casefold().startswith(prefix) and name.casefold() != prefix:
            written = quote(name, for_value=True)
            return lead + sign + key + ":" + (done + "|" if done or value.startswith("|") else "") + written
    return None


def combine(a: Filter, b: Filter) -> Filter | None:
    """Followers matching both a and b, as one Filter; None when a Filter cannot say it (two
    any-of tag sets, two texts, blacklisted and not)."""
    def any_of(f: Filter) -> bool:
        return len(f.tags) > 1 and not f.match_all_tags

    if a.tags and b.tags and (any_of(a) or any_of(b)):
        return None
    if a.text and b.text and a.text != b.text:
        return None
    if a.blacklisted is not None and b.blacklisted is not None and a.blacklisted != b.blacklisted:
        return None

    def both(x: frozenset[str], y: frozenset[str]) -> frozenset[str] | None:
        if x and y:
            return x & y or None
        return x or y

    scenes, languages = both(a.scenes, b.scenes), both(a.languages, b.languages)
    if scenes is None or languages is None:
        return None
    tags = a.tags | b.tags
    starts = [t for t in (a.subscribed_from, b.subscribed_from) if t is not None]
    ends = [t for t in (a.subscribed_to, b.subscribed_to) if t is not None]
    return Filter(
        tags=tags, match_all_tags=(a.match_all_tags or b.match_all_tags or bool(a.tags and b.tags)) and len(tags) > 1,
        not_tags=a.not_tags | b.not_tags, untagged=a.untagged or b.untagged,
        blacklisted=a.blacklisted if a.blacklisted is not None else b.blacklisted, text=a.text or b.text,
        scenes=scenes, languages=languages, subscribed_from=max(starts) if starts else None,
        subscribed_to=min(ends) if ends else None)
