"""Resolve secrets that live in Prefect blocks into the run's settings."""

from __future__ import annotations

from prefect.blocks.system import Secret
from prefect.logging import get_run_logger

from indexlake.config import Settings


def with_api_key(settings: Settings) -> Settings:
    """Settings with the Twelve Data key from the Secret block if no other key is set."""
    if settings.provider != "twelvedata" or settings.twelvedata_api_key():
        return settings
    name = settings.twelvedata.secret_block
    try:
        key = Secret.load(name).get()
    except ValueError:  # no such block: open_source() reports the missing key
        return settings
    get_run_logger().info("Twelve Data key read from Secret block %r", name)
    td = settings.twelvedata.model_copy(update={"api_key": key})
    return settings.model_copy(update={"twelvedata": td})
