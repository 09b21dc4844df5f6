"""`python -m schemas`: print the JSON Schema of envelope v1 (see `schemas.jsonschema`)."""

from __future__ import annotations

import json
import sys

from schemas.jsonschema import export_json_schema

json.dump(export_json_schema(), sys.stdout, indent=2, sort_keys=True, ensure_ascii=False)
sys.stdout.write("\n")
