"""``module:factory`` plugins: a frame source or focus driver from any importable module.

The factory is called with no arguments (DESIGN.md); what it returns is
duck-typed and adapted by the caller (``PluginSource``, ``DuckDriver``).
"""

from __future__ import annotations

import importlib
import re
from typing import Any

from assistant.errors import UserInputError

PLUGIN_SPEC = re.compile(r"^[A-Za-z_][\w.]*:[A-Za-z_]\w*$")


def make_plugin(spec: str, option: str, error: type[UserInputError] = UserInputError) -> Any:
    """Import ``module``, call ``factory()`` and return the object; one clear line on failure."""
    if not PLUGIN_SPEC.match(spec):
        raise error(f"{option} {spec}: expected module:factory, e.g. mypackage.focus:make_driver")
    module_name, factory_name = spec.split(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise error(f"{option} {spec}: cannot import module {module_name!r} ({exc}); check it is on PYTHONPATH") from exc
    except Exception as exc:  # noqa: BLE001 - the user's module failed while importing: say so in one line
        raise error(f"{option} {spec}: importing {module_name!r} failed: {type(exc).__name__}: {exc}") from exc
    factory = getattr(module, factory_name, None)
    if not callable(factory):
        raise error(f"{option} {spec}: module {module_name!r} has no callable {factory_name!r}")
    try:
        return factory()
    except Exception as exc:  # noqa: BLE001 - the user's factory failed: one line, not a traceback
        raise error(f"{option} {spec}: {factory_name}() failed: {type(exc).__name__}: {exc}") from exc
