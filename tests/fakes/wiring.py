"""Alias of `balto.fakes.wiring` (the fakes moved into the package for `balto demo`).

The module object itself is re-bound, so private helpers and module state are shared.
"""

import sys

from balto.fakes import wiring as _module

sys.modules[__name__] = _module
