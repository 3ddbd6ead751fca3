"""``INVOKE_DLC_*`` variables, read by the table of options: lists and mappings as JSON.

Invoke casts an environment string to the type of the setting's current value: it cannot
make a list (``UncastableEnvVar``, a traceback) and it looks for a mapping's keys one by one
(``INVOKE_DLC_BUILD_ARGS`` alone is dropped without a word). :class:`DlcConfig` keeps
Invoke's loading for every other section and reads the ``dlc`` section from
:data:`~dlc_tasks.config.options.OPTIONS` instead: text as it is, a number or a switch
checked, a list or a mapping as JSON (``INVOKE_DLC_PROD_FILES='["config.yaml"]'``,
``INVOKE_DLC_BUILD_ARGS='{"GOPROXY": "off"}'``). A value that is not what its option takes
is one line naming the variable, never its value (a mapping may hold a secret). A mapping
is merged over the configuration files' as Invoke merges every level (a build argument of
``~/.invoke.yaml`` stays unless the variable names it).
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from typing import Any, cast

from invoke.config import Config, merge_dicts
from invoke.env import Environment

from dlc_tasks.config.options import OPTIONS, Option
from dlc_tasks.errors import EnvironmentValue

_TRUE = ("1", "true", "yes")
_FALSE = ("0", "false", "no", "")
_JSON_NAMES: dict[type, str] = {
    list: "array",
    dict: "object",
    str: "string",
    int: "number",
    float: "number",
    bool: "true or false",
    type(None): "null",
}
_EXAMPLES: dict[type, str] = {list: '["a", "b"]', dict: '{"NAME": "value"}'}


def variable(option: Option, prefix: str = "INVOKE_") -> str:
    """The variable Invoke's naming gives ``option``: ``INVOKE_DLC_GO_FLAGS`` for ``go.flags``."""
    return f"{prefix}DLC_{option.key.replace('.', '_').upper()}"


def dlc_environment(environ: Mapping[str, str], prefix: str = "INVOKE_") -> dict[str, Any]:
    """The ``dlc`` values the environment sets, nested as the configuration is."""
    tree: dict[str, Any] = {}
    for option in OPTIONS:
        name = variable(option, prefix)
        if name not in environ:
            continue
        *sections, key = option.key.split(".")
        node = tree
        for section in sections:
            node = node.setdefault(section, {})
        node[key] = from_text(option, name, environ[name])
    return tree


def from_text(option: Option, name: str, text: str) -> Any:
    """``text`` as ``option``'s value, or one line naming the variable ``name``."""
    kind = option.kind
    if kind is str:
        return text
    if kind is bool:
        if text.strip().lower() not in _TRUE + _FALSE:
            raise EnvironmentValue(
                f"{name} must be 1, true or yes (or 0, false, no)", hint=f"e.g. {name}=1"
            )
        return text.strip().lower() in _TRUE
    if kind in (int, float):
        try:
            return kind(text)
        except ValueError as err:
            what = "an integer" if kind is int else "a number"
            raise EnvironmentValue(f"{name} must be {what}", hint=f"e.g. {name}=5") from err
    if option.words and not text.lstrip().startswith("["):
        return text.split()  # `INVOKE_DLC_CI_INSTALL='nox dlc-tasks==1.0'`, as before
    shape = _JSON_NAMES[kind]
    hint = f"give a JSON {shape}, e.g. {name}='{_EXAMPLES[kind]}'"
    try:
        value = json.loads(text)
    except ValueError as err:
        where = (
            f"line {err.lineno} column {err.colno}" if isinstance(err, json.JSONDecodeError) else ""
        )
        raise EnvironmentValue(f"{name} is not valid JSON ({where})", hint=hint) from err
    if not isinstance(value, kind):
        raise EnvironmentValue(
            f"{name} must be a JSON {shape}, not a JSON {_JSON_NAMES.get(type(value), 'value')}",
            hint=hint,
        )
    return value


class DlcConfig(Config):
    """Invoke's configuration, reading ``INVOKE_DLC_*`` through the table of options."""

    def load_shell_env(self) -> None:
        """Invoke's environment level: its own loading for the other sections, ours for
        ``dlc`` (see the module's text)."""
        self.merge()
        others = {key: value for key, value in self._config.items() if key != "dlc"}
        # Invoke's loader only indexes and lists keys of what it is given: a mapping will do
        loaded = Environment(config=cast(Config, others), prefix=self._env_prefix).load()
        ours = dlc_environment(os.environ, self._env_prefix or "")
        self._set(_env=merge_dicts(loaded, {"dlc": ours}) if ours else loaded)
        self.merge()
