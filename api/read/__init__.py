"""The checkout read path: deadline-bound reads of Engage, cached in Redis (``relay.readcache``).

- ``api.read.deadline``: ``call_within(fn, deadline_s)``, a call that answers or gives up in time;
- ``api.read.reader``: ``read_through(...)`` -> ``ReadResult``: fresh cache, else Engage within the
  deadline (cached on the way back), else the stale answer with its age, else ``ReadUnavailable`` (503);
- ``api.read.answers``: the shapes the routes answer (``Overview``, ``Vouchers``, ``Promotions``, ...)
  and the projections from Engage's models.
"""
