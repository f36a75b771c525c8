"""Every key binding of the app, by pane, with the ids users remap in the config's keymap.

    [keymap]
    tag = "ctrl+t"
    blacklist = "x"

(An account's own [accounts.NAME.keymap] applies on top while that account is open.)

The help screen and the command palette read these same lists, so a remapped key shows where the
binding is documented. Actions prefixed `screen.` run on the main screen, whichever pane is
focused, so the palette can run any of them from anywhere.
"""

from __future__ import annotations

from textual.binding import Binding

APP = [
    Binding("ctrl+q", "quit", "Quit", id="quit", priority=True, show=False),
    Binding("question_mark,f1", "help", "Help", id="help"),
]

# Any pane's, so a query typed after / never lands on the tag pane's or the jobs panel's keys;
# the help lists it with the followers' keys.
FILTER = Binding("slash", "screen.filter", "Filter", id="filter")

# The main screen's, whichever pane is focused.
MAIN = [
    FILTER,
    Binding("s", "screen.sync", "Sync", id="sync"),
    Binding("z", "screen.undo", "Undo", id="undo"),
    Binding("j", "screen.focus_jobs", "Jobs", id="jobs", show=False),
    Binding("h", "screen.history", "History", id="history", show=False),
    Binding("L", "screen.audit_log", "Log", id="audit_log", show=False),
    Binding("K", "screen.rules", "Rules", id="rules", show=False),
    # Here, not with the followers' keys: emptying the selection must work from any pane.
    Binding("A", "screen.clear_selection", "None", id="clear_selection", show=False),
]

MEMBERS = [
    Binding("a", "screen.select_all", "All", id="select_all"),
    Binding("S", "screen.save_segment", "Save segment", id="save_segment", show=False),
    Binding("t", "screen.tag", "Tag", id="tag"),
    Binding("u", "screen.untag", "Untag", id="untag"),
    Binding("c", "screen.clear_tags", "Clear tags", id="clear_tags", show=False),
    Binding("b", "screen.blacklist", "Block", id="blacklist"),
    Binding("B", "screen.unblacklist", "Unblock", id="unblacklist"),
    Binding("e", "screen.export", "Export", id="export", show=False),
    Binding("i", "screen.import_openids", "Import", id="import", show=False),
    Binding("escape", "screen.clear_filter", "Clear filter", id="clear_filter", show=False),
    Binding("enter", "screen.open_follower", "Open", id="open_follower", show=False),
]

TAGS = [
    Binding("n", "screen.new_tag", "New tag", id="new_tag"),
    Binding("r", "screen.rename_tag", "Rename", id="rename_tag"),
    Binding("d", "screen.delete_tag", "Delete", id="delete_tag"),
]

JOBS = [
    Binding("x", "screen.cancel_job", "Cancel job", id="cancel_job"),
    Binding("R", "screen.resume_job", "Resume", id="resume_job"),
    Binding("enter", "screen.job_details", "Details", id="job_details"),
]

# The rules screen's (K: segments that keep themselves tagged).
RULES = [
    Binding("n", "new_rule", "New rule", id="new_rule"),
    Binding("enter", "run_rule", "Run now", id="run_rule"),
    Binding("p", "pause_rule", "Pause/resume", id="pause_rule"),
    Binding("a", "automatic_rule", "Ask/automatic", id="automatic_rule"),
    Binding("d", "delete_rule", "Delete", id="delete_rule"),
    Binding("escape", "close", "Back", id="close_rules"),
]

# The follower screen's (one follower, opened with enter on a row).
FOLLOWER = [
    Binding("r", "edit_remark", "Remark", id="edit_remark"),
    Binding("t", "set_tags", "Set tags", id="set_tags"),
    Binding("b", "blacklist", "Block", id="follower_blacklist"),
    Binding("B", "unblacklist", "Unblock", id="follower_unblacklist"),
    Binding("escape", "close", "Back", id="close_follower"),
]

# Cursor keys of the member table (kept here so they can be remapped too).
TABLE = [
    Binding("space", "toggle", "Select", id="toggle_select"),
    Binding("shift+up", "extend(-1)", "Extend up", show=False, id="extend_up"),
    Binding("shift+down", "extend(1)", "Extend down", show=False, id="extend_down"),
    Binding("up", "cursor_up", "Up", show=False, id="cursor_up"),
    Binding("down", "cursor_down", "Down", show=False, id="cursor_down"),
    Binding("pageup", "page_up", "Page up", show=False, id="page_up"),
    Binding("pagedown", "page_down", "Page down", show=False, id="page_down"),
    Binding("home", "first", "First", show=False, id="first"),
    Binding("end", "last", "Last", show=False, id="last"),
]

# What the help screen lists, in order: (heading, bindings, longer descriptions by id).
GROUPS: list[tuple[str, list[Binding]]] = [
    ("Followers", TABLE[:3] + MEMBERS[:1] + [FILTER] + MEMBERS[1:]),
    ("Tags", TAGS),
    ("Jobs", JOBS),
    ("One follower", FOLLOWER),
    ("Rules", RULES),
    ("Everywhere", [b for b in MAIN if b is not FILTER] + APP),
]

# What the command palette offers (every action with a screen-level implementation).
LONG_HELP: dict[str, str] = {
    "toggle_select": "Select or unselect the follower under the cursor",
    "extend_up": "Extend the selection upwards",
    "extend_down": "Extend the selection downwards",
    "select_all": "Select every follower matching the filter",
    "clear_selection": "Clear the selection",
    "filter": "Filter as you type: text, or a query (tag:VIP -tag:Staff followed:2024-01-01..; ? in the bar explains)",
    "save_segment": "Save what the browser shows as a named segment (listed in the tag pane)",
    "clear_filter": "Clear the filter bar",
    "tag": "Tag the selected followers (pick or create a tag)",
    "untag": "Untag the selected followers",
    "clear_tags": "Remove every tag from the selected followers",
    "blacklist": "Blacklist the selected followers",
    "unblacklist": "Take the selected followers off the blacklist",
    "export": "Export the selection (or the view) to a CSV file",
    "import": "Import openids from a file into the selection",
    "open_follower": "Open the follower under the cursor: details, tags, jobs",
    "edit_remark": "Edit the follower's remark",
    "set_tags": "Set the follower's tags with a checklist",
    "follower_blacklist": "Blacklist the follower",
    "follower_unblacklist": "Take the follower off the blacklist",
    "close_follower": "Back to the followers",
    "new_tag": "Create a tag",
    "rename_tag": "Rename the highlighted tag",
    "delete_tag": "Delete the highlighted tag (or segment)",
    "cancel_job": "Cancel the highlighted job",
    "resume_job": "Resume the highlighted paused or interrupted job",
    "job_details": "Show the highlighted job's failures",
    "sync": "Sync the account from WeChat",
    "undo": "Undo the last finished job",
    "jobs": "Go to the jobs panel",
    "history": "Plot followers and tags over time, and the daily new and cancelled followers",
    "audit_log": "The audit log: every job and API call, who ran it, errcodes and rids",
    "rules": "Rules: segments that keep a tag on their followers, run after every sync",
    "new_rule": "Give a segment a rule: its followers carry a tag (leavers may lose it)",
    "run_rule": "Run the highlighted rule now (it shows its job first)",
    "pause_rule": "Pause the highlighted rule, or resume it",
    "automatic_rule": "Make the highlighted rule run after a sync without asking, or ask again",
    "delete_rule": "Delete the highlighted rule (its segment and tag stay)",
    "close_rules": "Back to the followers",
    "help": "Show every key",
    "quit": "Quit wxtui",
}


def key_for(binding: Binding, keymap: dict[str, str]) -> str:
    """The key(s) a binding answers to under a keymap, as the user would type them."""
    keys = keymap.get(binding.id or "", binding.key)
    return ", ".join(display_key(k) for k in keys.split(","))


_DISPLAY = {"question_mark": "?", "slash": "/", "space": "space", "pageup": "pgup", "pagedown": "pgdn"}


def display_key(key: str) -> str:
    key = key.strip()
    return _DISPLAY.get(key, key)
