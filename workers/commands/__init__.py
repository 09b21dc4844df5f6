"""Operator commands of `engage-relay`, one module each; every module exports a click `command`.

`workers.cli` adds each module's `command` to the group, so a new command is a new module here.
"""
