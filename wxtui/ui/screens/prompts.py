"""Small dialogs that ask for one thing: a tag (picked or created), a tag name, a file path."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Iterable

from rich.text import Text
from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.fuzzy import Matcher
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, OptionList
from textual.widgets.option_list import Option

from wxtui.ui import format as fmt
DEFAULT_TAG_BYTES = 30  # WeChat's; an account's family says its own (Family.max_tag_bytes)
# WeChat's remark and tags-per-follower limits: the follower screen edits remarks and tag sets
# only on a family that has them (wxtui.families.wechat.limits holds the same numbers).
MAX_REMARK_BYTES = 30
MAX_TAGS_PER_FOLLOWER = 20

# A check of the text typed so far: an error to show (the OK button is disabled), or "".
Check = Callable[[str], str]


def tag_name_bytes(name: str) -> int:
    return len(name.encode("utf-8"))


def tag_name_check(existing: Iterable[str], allow: str = "", most: int = DEFAULT_TAG_BYTES) -> Check:
    """Live validation of a tag name: empty, over `most` bytes of UTF-8 (the family's limit), or taken."""
    taken = {n.casefold() for n in existing} - {allow.casefold()}

    def check(text: str) -> str:
        name = text.strip()
        if not name:
            return "A tag needs a name"
        if tag_name_bytes(name) > most:
            return f"Over {most} bytes (a Chinese character takes 3)"
        if name.casefold() in taken:
            return "A tag with this name exists already"
        return ""

    return check


def tag_name_meter(text: str, most: int = DEFAULT_TAG_BYTES) -> str:
    return f"{tag_name_bytes(text.strip())}/{most} bytes"


class TextPromptScreen(ModalScreen[str | None]):
    """Asks for one line of text, checked as it is typed; None when cancelled."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="prompt.cancel")]

    def __init__(self, title: str, *, value: str = "", placeholder: str = "", check: Check | None = None,
                 meter: Callable[[str], str] | None = None, ok: str = "OK") -> None:
        super().__init__()
        self.title_text = title
        self.value = value
        self.placeholder = placeholder
        self.check = check or (lambda text: "" if text.strip() else "Type something first")
        self.meter = meter
        self.ok = ok

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(fmt.literal(self.title_text), classes="dialog-title")
            yield Input(self.value, placeholder=self.placeholder, id="prompt-input")
            with Horizontal(classes="prompt-status"):
                yield Label("", id="prompt-error", classes="error")
                yield Label("", id="prompt-meter", classes="meter")
            with Horizontal(classes="buttons"):
                yield Button(self.ok, id="ok", variant="primary")
                yield Button("Cancel", id="cancel")

    def on_mount(self) -> None:
        self._validate(self.value)

    @on(Input.Changed)
    def _changed(self, event: Input.Changed) -> None:
        self._validate(event.value)

    def _validate(self, text: str) -> bool:
        error = self.check(text)
        self.query_one("#prompt-error", Label).update(fmt.literal(error))  # it may quote the text
        if self.meter:
            self.query_one("#prompt-meter", Label).update(fmt.literal(self.meter(text)))
        self.query_one("#ok", Button).disabled = bool(error)
        return not error

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if self._validate(event.value):
            self.dismiss(event.value.strip())

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "ok":
            value = self.query_one(Input).value
            if self._validate(value):
                self.dismiss(value.strip())
        else:
            self.dismiss(None)

    def action_cancel(self) -> None:
        self.dismiss(None)


@dataclass(frozen=True)
class TagChoice:
    """A tag picked from the list (tagid set), or one to create (tagid None)."""

    name: str
    tagid: int | None = None


class TagPickerScreen(ModalScreen[TagChoice | None]):
    """A fuzzy list of tags; typing a name that does not exist offers to create it."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="picker.cancel"),
                Binding("down", "down", show=False), Binding("up", "up", show=False)]

    def __init__(self, title: str, tags: Iterable[tuple[int, str, int]], *, allow_create: bool = True,
                 most_bytes: int = DEFAULT_TAG_BYTES, what: str = "tag") -> None:
        super().__init__()
        self.title_text = title
        self.what = what  # what the list holds, for the note when nothing matches
        self.tags = [(tagid, name, count) for tagid, name, count in tags]
        self.allow_create = allow_create
        self.most_bytes = most_bytes
        self.check = tag_name_check([], most=most_bytes)

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog picker"):
            yield Label(fmt.literal(self.title_text), classes="dialog-title")
            # Not select_on_focus: a letter typed on the list comes back here after it (on_key).
            yield Input(placeholder="type to search" + (" or name a new tag" if self.allow_create else ""),
                        id="picker-input", select_on_focus=False)
            yield OptionList(id="picker-options")
            yield Label("", id="picker-note", classes="meter")

    def on_mount(self) -> None:
        self._fill("")

    def set_title(self, title: str) -> None:
        """Name who it acts on, once that is counted (the picker opens before)."""
        self.title_text = title
        for label in self.query(".dialog-title"):
            label.update(fmt.literal(title))

    def _fill(self, query: str) -> None:
        options = self.query_one(OptionList)
        query = query.strip()
        matches = self.tags
        if query:
            matcher = Matcher(query)
            scored = [(matcher.match(name), (tagid, name, count)) for tagid, name, count in self.tags]
            matches = [t for score, t in sorted(scored, key=lambda s: -s[0]) if score > 0]
        items: list[Option] = [
            Option(Text.assemble(fmt.fit(name, 20), " ", (fmt.count(count).rjust(6), "dim")), id=f"tag:{tagid}")
            for tagid, name, count in matches]
        exact = any(name.casefold() == query.casefold() for _, name, _ in self.tags)
        note = ""
        if query and self.allow_create and not exact:
            # Offered after the matches: Enter takes the best existing tag, a new one is a choice.
            error = self.check(query)
            if error:
                note = error
            else:
                items.append(Option(Text.assemble(("+ create ", "bold"), fmt.visible(query)), id="create"))
                note = tag_name_meter(query, self.most_bytes)
        elif query and not matches:
            note = f"No {self.what} matches {query!r}"
        options.set_options(items)
        # Nothing typed, nothing chosen: an Enter typed ahead (t, Enter, Enter) must not take
        # whatever tag comes first. ↓ or a letter chooses.
        options.highlighted = 0 if items and query else None
        if not query and items:
            note = "Type to search, or ↓ to choose"
        self.query_one("#picker-note", Label).update(fmt.literal(note))

    @on(Input.Changed)
    def _changed(self, event: Input.Changed) -> None:
        self._fill(event.value)

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        options = self.query_one(OptionList)
        if options.highlighted is not None:
            self._choose(options.get_option_at_index(options.highlighted).id or "")

    @on(OptionList.OptionSelected)
    def _selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self._choose(event.option.id or "")

    def _choose(self, option_id: str) -> None:
        if option_id == "create":
            self.dismiss(TagChoice(self.query_one(Input).value.strip()))
        elif option_id.startswith("tag:"):
            tagid = int(option_id[4:])
            name = next(n for t, n, _ in self.tags if t == tagid)
            self.dismiss(TagChoice(name, tagid))

    def on_key(self, event: events.Key) -> None:
        """Typing while the list has the focus (after tab) searches, as it does in the box:
        the letters must not be lost, leaving Enter to take the first tag."""
        field = self.query_one(Input)
        # A letter the box took never gets here (the box stops it): one that does was typed
        # before the box had the focus (right after t, while the picker opened) or on the list.
        if self.focused is field and not (event.is_printable and event.character):
            return
        if event.is_printable and event.character:
            field.focus()
            field.insert_text_at_cursor(event.character)
        elif event.key == "backspace":
            field.focus()
            field.action_delete_left()
        else:
            return
        event.stop()
        event.prevent_default()

    def action_down(self) -> None:
        self.query_one(OptionList).action_cursor_down()

    def action_up(self) -> None:
        self.query_one(OptionList).action_cursor_up()

    def action_cancel(self) -> None:
        self.dismiss(None)


def remark_check(text: str) -> str:
    """Live validation of a remark: WeChat takes fewer than 30 bytes of UTF-8 (empty clears it)."""
    size = len(text.encode("utf-8"))
    if size >= MAX_REMARK_BYTES:
        return f"At most {MAX_REMARK_BYTES - 1} bytes (a Chinese character takes 3)"
    return ""


def remark_meter(text: str) -> str:
    return f"{len(text.encode('utf-8'))}/{MAX_REMARK_BYTES - 1} bytes"


class TagChecklistScreen(ModalScreen["tuple[int, ...] | None"]):
    """Every tag, those the follower carries checked; answers the checked tag ids, or None."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="checklist.cancel")]

    def __init__(self, title: str, tags: Iterable[tuple[int, str, int]], carried: Iterable[int]) -> None:
        super().__init__()
        self.title_text = title
        self.tags = list(tags)
        self.carried = set(carried)

    def compose(self) -> ComposeResult:
        from textual.widgets import SelectionList

        with Vertical(classes="dialog picker checklist"):
            yield Label(self.title_text, classes="dialog-title")
            yield SelectionList[int](
                *((Text.assemble(fmt.fit(name, 24), " ", (fmt.count(count).rjust(6), "dim")),
                   tagid, tagid in self.carried) for tagid, name, count in self.tags),
                id="checklist")
            with Horizontal(classes="prompt-status"):
                yield Label("", id="checklist-error", classes="error")
                yield Label("", id="checklist-meter", classes="meter")
            yield Label("space checks · tab, enter applies · esc cancels", classes="meter")
            with Horizontal(classes="buttons"):
                yield Button("Apply", id="ok", variant="primary")
                yield Button("Cancel", id="cancel")

    def on_mount(self) -> None:
        self._validate()

    def _checked(self) -> tuple[int, ...]:
        from textual.widgets import SelectionList

        return tuple(sorted(self.query_one(SelectionList).selected))

    def _validate(self) -> bool:
        n = len(self._checked())
        error = (f"A follower carries at most {MAX_TAGS_PER_FOLLOWER} tags"
                 if n > MAX_TAGS_PER_FOLLOWER else "")
        self.query_one("#checklist-error", Label).update(error)
        self.query_one("#checklist-meter", Label).update(f"{n} of {MAX_TAGS_PER_FOLLOWER} tags")
        self.query_one("#ok", Button).disabled = bool(error)
        return not error

    def on_selection_list_selected_changed(self, event) -> None:
        event.stop()
        self._validate()

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "ok":
            if self._validate():
                self.dismiss(self._checked())
        else:
            self.dismiss(None)

    def action_cancel(self) -> None:
        self.dismiss(None)
