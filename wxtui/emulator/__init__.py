"""A faithful, in-memory emulator of the WeChat Official Account API (an ASGI app)."""
