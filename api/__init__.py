"""The HTTP service (FastAPI): webhook ingest, event outcomes, the checkout read path, soft identification.

Nothing is re-exported here; each module's docstring lists its public names:

- ``api.app``: ``create_app(services, *, extra_routers=())`` -> ``FastAPI`` (the browser console passes its
  routers as ``extra_routers``); ``service_routers()``;
- ``api.services``: ``ApiServices``, the dataclass of what the endpoints need (settings, Redis, the tenant
  registry asked per request, tokens, stores, the read cache, the breaker, the Engage limiter, a clock);
- ``api.settings``: ``ApiSettings`` (deadlines, cache TTLs, per-token budget) and the request size limits;
- ``api.deps``: the shared dependencies (``Services``, ``Caller``, ``CallerTenant``, ``visible_tenant``);
- ``api.errors``: ``ApiError`` and the one JSON error shape;
- ``api.routes``: one router per resource; ``api.read``: the deadline-bound, cached read path;
- ``api.openapi``: the OpenAPI document as committed in ``api/openapi.json``;
- ``api.soft_id``: decode Voyado's ``eclub`` soft-identification token with a tenant's shared key
  (``decode_token`` -> ``SoftIdentity``; the ``SoftIdError`` tree, one class per reason;
  ``encode_token`` for tests and the demo);
- ``api.tokens``: API tokens per tenant or operator-wide, stored as SHA-256 digests
  (``ApiTokens`` with ``create_for_tenant``, ``create_operator``, ``list``, ``revoke``, ``authenticate``
  -> ``TokenScope``; the ``TokenStore`` protocol, ``RedisTokenStore``, ``MemoryTokenStore``);
- ``api.ratelimit``: a per-token request budget (``RequestLimiter`` protocol, ``RedisRequestLimiter``,
  ``MemoryRequestLimiter``, ``check(token_id) -> RateDecision``).

Redis keys owned here: ``engage:api:token:*`` (``api.tokens.DEFAULT_KEY_PREFIX``) and ``engage:api:rl:*``
(``api.ratelimit.DEFAULT_KEY_PREFIX``); the read cache's are the relay's (``relay.readcache``).
"""
