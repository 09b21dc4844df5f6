"""Operator commands of `engage-relay`, one module each; every module exports a click `command`.

`workers.cli.LAZY_COMMANDS` names each module and its help line, so a new command is a new module here
plus one entry there (a test fails until both are in step). A module imports only click and the standard
library at its top, and the rest inside its commands, so its `--help` starts fast; values its options need
(choices, defaults) are written out here and compared with their owners by a test. Failures of Redis,
Engage, file servers and our configuration are said in one line by `workers.cli` (`_failures`), so a
command needs no handler of its own for them.
"""
