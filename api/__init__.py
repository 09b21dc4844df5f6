"""The HTTP service's building blocks; the FastAPI app that serves them comes later (issue 12).

Nothing is re-exported here (the app will import these modules); each module's docstring lists its
public names:

- ``api.soft_id``: decode Voyado's ``eclub`` soft-identification token with a tenant's shared key
  (``decode_token`` -> ``SoftIdentity``; the ``SoftIdError`` tree, one class per reason;
  ``encode_token`` for tests and the demo);
- ``api.tokens``: API tokens per tenant or operator-wide, stored as SHA-256 digests
  (``ApiTokens`` with ``create_for_tenant``, ``create_operator``, ``list``, ``revoke``, ``authenticate``
  -> ``TokenScope``; the ``TokenStore`` protocol, ``RedisTokenStore``, ``MemoryTokenStore``);
- ``api.ratelimit``: a per-token request budget (``RequestLimiter`` protocol, ``RedisRequestLimiter``,
  ``MemoryRequestLimiter``, ``check(token_id) -> RateDecision``).

Redis keys owned here: ``engage:api:token:*`` (``api.tokens.DEFAULT_KEY_PREFIX``) and ``engage:api:rl:*``
(``api.ratelimit.DEFAULT_KEY_PREFIX``).
These modules import only the standard library and third-party packages.
"""
