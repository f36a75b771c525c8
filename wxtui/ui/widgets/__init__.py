"""Widgets of the wxtui app."""
