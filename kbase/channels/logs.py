"""Logging for every command and channel: one format, the level of POLICYBOT_LOG_LEVEL (WARNING by default)."""
from __future__ import annotations

import logging

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def configure_logging(level: str) -> None:
    logging.basicConfig(level=level, format=FORMAT, force=True)
    logging.getLogger("pypdf").setLevel(logging.WARNING)  # it logs below WARNING on its own
    # httpx logs every request URL at INFO, and Bot API URLs contain the token: never below WARNING
    logging.getLogger("httpx").setLevel(logging.WARNING)
