"""The command line logs to a private file, redacted, and never to the terminal."""

from __future__ import annotations

import logging
import stat

from wxtui.cli import main as cli

from wxtui.core import paths


def test_commands_log_to_a_private_redacted_file(capsys):
    assert cli.main(["account", "list"]) == 0
    logging.getLogger("wxtui.families.wechat").warning("GET https://api/x?access_token=TOKEN123&secret=S3CRET")
    path = paths.log_dir() / "wxtui.log"
    text = path.read_text(encoding="utf-8")
    assert "access_token=***" in text
    assert "TOKEN123" not in text and "S3CRET" not in text
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert "TOKEN123" not in capsys.readouterr().err


def test_running_main_twice_keeps_one_log_handler():
    cli.main(["account", "list"])
    cli.main(["account", "list"])
    ours = [h for h in logging.getLogger().handlers if getattr(h, "wxtui_log", False)]
    assert len(ours) == 1


def test_the_log_file_skips_httpx_request_lines():
    cli.main(["account", "list"])
    logging.getLogger("httpx").info("HTTP Request: GET https://api/x?access_token=T")
    logging.getLogger("httpx").warning("connection pool is full")
    text = (paths.log_dir() / "wxtui.log").read_text(encoding="utf-8")
    assert "HTTP Request" not in text
    assert "connection pool is full" in text
