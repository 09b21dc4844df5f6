# Flower settings for engage-relay (`celery -A workers.beat:app flower --conf=...flowerconfig.py`).
# Flower reads this file as Python: plain settings only, no project logic.
import os

# Basic auth is mandatory: FLOWER_BASIC_AUTH="user:password" (several pairs separated by commas).
_credentials = os.environ.get("FLOWER_BASIC_AUTH", "")
if ":" not in _credentials:
    raise SystemExit("FLOWER_BASIC_AUTH must be set to user:password; Flower never runs without auth here")
basic_auth = [pair for pair in _credentials.split(",") if pair]

address = os.environ.get("FLOWER_ADDRESS", "0.0.0.0")  # noqa: S104 - inside its container; publish with care
port = int(os.environ.get("FLOWER_PORT", "5555"))
persistent = False  # the relay's own stores (outcomes, dead letters) are the record; Flower is a live view
natural_time = True  # "3 minutes ago" rather than timestamps
max_tasks = 10000  # tasks kept in memory for the UI
purge_offline_workers = 300  # seconds before a vanished worker leaves the list
