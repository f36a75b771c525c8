"""The WeChat Official Account API client: no UI, no database."""
