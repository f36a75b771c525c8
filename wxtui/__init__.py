"""wxtui: administer a WeChat Official Account's followers, tags and blacklist from a terminal."""

__version__ = "0.1.0"
