"""Screens of the wxtui app."""
