"""A stateful stand-in for Voyado Engage v3 over HTTP (aiohttp), for tests, the demo and benchmarks.

Public:
- `simulator.server.serve(host, port, api_keys, rate_limit, import_dir, seed_path)`: run (blocking).
- `simulator.server.build_app(config) -> aiohttp.web.Application` with `simulator.config.SimConfig`.
- The admin HTTP API under `/_sim/` (state, keys, faults, switches, reset, seed); see `simulator/README.md`.
- `simulator.tenancy.key_id(key)` / `tenant_folder(key)`: a key's id and its import folder.
Everything else is internal: `context` (one `state.SimState` per API key), the domain rules
(`contacts`, `receipts`, `stores`, `loyalty`, `orders`, `bulk`, `tracking`) and their routes
(`contact_routes`, `store_routes`, `order_routes`, ...), `faults`, `documented_errors` and
`middleware` (auth, rate limit, faults), `switches`, `admin`, `seed`, `importer` (the import-folder
watcher) and its parsers (`import_files`, `import_contacts`, `xml_reading`).
"""
