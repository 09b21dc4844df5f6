"""The service's routers, one per resource: ``health``, ``events``, ``contacts`` (the read path and the
synchronous assignment), ``soft_id``. ``api.app.service_routers`` lists them in order."""
