"""Load TOML files into frozen dataclasses with one-line, key-naming errors.

Config, scene, cue and lens files all go through :func:`load_toml`, so every
file type rejects an unknown key, a wrong type or an out-of-range value the
same way: ``<file>: <dotted.key>: <what is wrong>; <what is expected>``.

Range and choice limits live next to the field they constrain, as metadata::

    grid_cols: int = field(default=16, metadata=limits(lo=1, hi=256))
"""

from __future__ import annotations

import dataclasses
import math
import tomllib
import types
import typing
from pathlib import Path
from typing import Any, TypeVar

from assistant.errors import ConfigError

T = TypeVar("T")


def limits(
    lo: float | None = None,
    hi: float | None = None,
    choices: tuple[str, ...] | None = None,
    lo_open: bool = False,
) -> dict[str, Any]:
    """Field metadata: inclusive ``lo``/``hi`` (``lo_open`` makes lo exclusive) or ``choices``."""
    return {"lo": lo, "hi": hi, "choices": choices, "lo_open": lo_open}


def read_toml(path: Path) -> dict[str, Any]:
    """Parse a TOML file, turning I/O and syntax errors into a ConfigError."""
    try:
        with open(path, "rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError as exc:
        raise ConfigError(f"{path}: file not found; check the path") from exc
    except IsADirectoryError as exc:
        raise ConfigError(f"{path}: is a directory; give a .toml file") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc}); fix the syntax at that line") from exc
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not a text file; give a UTF-8 .toml file") from exc


def load_toml(cls: type[T], path: Path) -> T:
    """Read ``path`` and build ``cls`` from it (see :func:`build`)."""
    return build(cls, read_toml(path), str(path))


def build(cls: type[T], data: Any, where: str, key: str = "") -> T:
    """Build dataclass ``cls`` from a mapping, validating every key and value."""
    if not isinstance(data, dict):
        raise ConfigError(f"{where}: {key or 'top level'}: expected a table, got {_kind(data)}")
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls) if f.init}
    unknown = sorted(set(data) - set(fields))
    if unknown:
        expected = ", ".join(sorted(fields))
        raise ConfigError(
            f"{where}: {_join(key, unknown[0])}: unknown key; expected one of: {expected}"
        )
    values: dict[str, Any] = {}
    for name, spec in fields.items():
        dotted = _join(key, name)
        if name not in data:
            if spec.default is dataclasses.MISSING and spec.default_factory is dataclasses.MISSING:
                raise ConfigError(f"{where}: {dotted}: missing; this key is required")
            continue
        value = _convert(hints[name], data[name], where, dotted)
        _check_limits(spec.metadata, value, where, dotted)
        values[name] = value
    try:
        return cls(**values)
    except (ValueError, TypeError) as exc:
        raise ConfigError(f"{where}: {key or 'top level'}: {exc}") from exc


def _convert(hint: Any, value: Any, where: str, key: str) -> Any:
    origin = typing.get_origin(hint)
    if dataclasses.is_dataclass(hint):
        return build(hint, value, where, key)
    if origin in (typing.Union, types.UnionType):
        options = typing.get_args(hint)
        if value is None and type(None) in options:
            return None
        inner = [o for o in options if o is not type(None)]
        return _convert(inner[0], value, where, key)
    if origin is tuple:
        if not isinstance(value, list):
            raise ConfigError(f"{where}: {key}: expected a list, got {_kind(value)}")
        args = typing.get_args(hint)
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(
                _convert(args[0], item, where, f"{key}[{i}]") for i, item in enumerate(value)
            )
        if len(value) != len(args):
            raise ConfigError(f"{where}: {key}: expected a list of {len(args)} values, got {len(value)}")
        return tuple(_convert(a, item, where, f"{key}[{i}]") for i, (a, item) in enumerate(zip(args, value)))
    if origin is dict:
        if not isinstance(value, dict):
            raise ConfigError(f"{where}: {key}: expected a table, got {_kind(value)}")
        value_hint = typing.get_args(hint)[1]
        return {name: _convert(value_hint, item, where, _join(key, name)) for name, item in value.items()}
    if hint is bool:
        if not isinstance(value, bool):
            raise ConfigError(f"{where}: {key}: expected true or false, got {_kind(value)}")
        return value
    if hint is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"{where}: {key}: expected a whole number, got {_kind(value)}")
        return value
    if hint is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigError(f"{where}: {key}: expected a number, got {_kind(value)}")
        return float(value)
    if hint is str:
        if not isinstance(value, str):
            raise ConfigError(f"{where}: {key}: expected a string, got {_kind(value)}")
        return value
    raise TypeError(f"schema: unsupported field type {hint!r} at {key}")  # a programming error


def check_limits(instance: Any) -> None:
    """Apply each field's ``limits`` metadata to a dataclass built in code (not from TOML).

    Raises ValueError naming the field, so constructors reject bad arguments
    with the same words a config file gets.
    """
    hints = typing.get_type_hints(type(instance))
    for spec in dataclasses.fields(instance):
        value = getattr(instance, spec.name)
        if hints.get(spec.name) in (int, float, bool, str):
            try:
                _convert(hints[spec.name], value, "", spec.name)
            except ConfigError as exc:
                raise ValueError(str(exc).lstrip(": ")) from None
        if isinstance(value, float) and math.isnan(value):
            raise ValueError(f"{spec.name}: expected a number, got nan")
        problem = _limit_problem(spec.metadata, value)
        if problem:
            raise ValueError(f"{spec.name}: {problem}")


def _check_limits(meta: typing.Mapping[str, Any], value: Any, where: str, key: str) -> None:
    problem = _limit_problem(meta, value)
    if problem:
        raise ConfigError(f"{where}: {key}: {problem}")


def _limit_problem(meta: typing.Mapping[str, Any], value: Any) -> str | None:
    """What is wrong with ``value`` under the field's limits, or None."""
    if not meta or value is None:
        return None
    lo, hi, choices = meta.get("lo"), meta.get("hi"), meta.get("choices")
    if choices is not None:
        return None if value in choices else f"{value!r} is not allowed; expected one of: {', '.join(choices)}"
    too_low = lo is not None and (value <= lo if meta.get("lo_open") else value < lo)
    if too_low or (hi is not None and value > hi):
        low = f"> {lo}" if meta.get("lo_open") else f">= {lo}"
        bounds = " and ".join(b for b in (low if lo is not None else "", f"<= {hi}" if hi is not None else "") if b)
        return f"{value} is out of range; expected {bounds}"
    return None


def _join(prefix: str, name: str) -> str:
    return f"{prefix}.{name}" if prefix else name


def _kind(value: Any) -> str:
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        return f"the string {value!r}"
    return f"{type(value).__name__} {value!r}"
