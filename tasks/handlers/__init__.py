"""Handlers: one per Engage flow, each `(EventContext, event) -> Applied`, raising the engage error tree."""
