"""The HTTP service's building blocks (the FastAPI app comes later): soft identification so far.

Public API: ``api.soft_id`` (decode Voyado's ``eclub`` token; see its docstring).
"""
