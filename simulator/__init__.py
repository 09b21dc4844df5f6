"""A stateful stand-in for Voyado Engage v3 over HTTP (aiohttp), for tests, the demo and benchmarks.

Public:
- `simulator.server.serve(host, port, api_keys, rate_limit, import_dir, seed_path)`: run (blocking).
- `simulator.server.build_app(config) -> aiohttp.web.Application` with `simulator.config.SimConfig`.
- The admin HTTP API under `/_sim/` (state, faults, reset, seed); see `simulator/README.md`.
Everything else is internal: `state` (the store), `contacts`, `receipts`, `loyalty`, `orders`,
`bulk`, `tracking` (the domain rules), `faults` and `middleware` (auth, rate limit, faults),
`admin`, `seed`, `importer` (the import-folder watcher) and `import_files` (its parsers).
"""
