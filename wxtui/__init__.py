"""wxtui: administer a WeChat Official Account's followers, tags and blacklist from a terminal."""

__version__ = "0.1.0"

import logging as _logging
import sys as _sys

# A library stays quiet unless the application configures logging (the TUI owns the terminal).
_logging.getLogger("wxtui").addHandler(_logging.NullHandler())

# httpx loads its own command line (httpx._main: click, pygments, rich's console) at every
# import whenever click is installed, and sqlite-utils installs it: ~80 ms of every start of
# wxtui, for a command wxtui never runs. Marked missing, httpx falls back to its stub.
_sys.modules.setdefault("httpx._main", None)
