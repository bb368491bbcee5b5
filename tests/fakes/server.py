"""Alias of `balto.fakes.server` (the fakes moved into the package for `balto demo`).

The module object itself is re-bound, so private helpers and module state are shared.
"""

import sys

from balto.fakes import server as _module

sys.modules[__name__] = _module
