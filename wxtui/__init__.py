"""wxtui: administer a WeChat Official Account's followers, tags and blacklist from a terminal."""

__version__ = "0.1.0"

import logging as _logging

# A library stays quiet unless the application configures logging (the TUI owns the terminal).
_logging.getLogger("wxtui").addHandler(_logging.NullHandler())
