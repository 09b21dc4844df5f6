"""The simulator's start-up configuration (what the command line sets; faults change at run time)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

DEFAULT_RATE_LIMIT_PER_S = 200
DEFAULT_IMPORT_INTERVAL_S = 0.5
DEFAULT_ORDER_JOB_DELAY_S = 0.05
DEFAULT_BULK_DELAY_S = 0.05
SHUTDOWN_TIMEOUT_S = 2.0


@dataclass(frozen=True)
class SimConfig:
    """API keys, rate limit, import folder, seed file and processing delays."""

    api_keys: tuple[str, ...] = ("dev-key",)
    rate_limit: int = DEFAULT_RATE_LIMIT_PER_S
    import_dir: Path | None = None
    seed_path: Path | None = None
    import_interval_s: float = DEFAULT_IMPORT_INTERVAL_S
    order_job_delay_s: float = DEFAULT_ORDER_JOB_DELAY_S
    bulk_delay_s: float = DEFAULT_BULK_DELAY_S

    def __repr__(self) -> str:
        # API keys are secrets: never in a repr or a log line.
        return (
            f"SimConfig(api_keys=<{len(self.api_keys)} keys>, rate_limit={self.rate_limit}, "
            f"import_dir={self.import_dir}, seed_path={self.seed_path})"
        )
