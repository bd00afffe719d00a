"""Settings read through pydantic-settings sources: the environment, a `.env` file, a secrets dir.

Why one base class: ``ProxmoxSettings`` and the bot's ``BotSettings`` read their variables the
same way, and an operator should get the same rules and the same error report from both. Each
field names its variable once (``validation_alias="PROXMOX_URL"``); those fields are the only
table of variable names (``scripts/gen_config_reference.py`` writes the reference from them).

Sources, first wins:

1. the environment (or the mapping given to ``from_env``, which then stands for the whole
   environment: the process environment is not read; the operator CLI, tests and the sandbox
   pass one);
2. the `.env` file named by ``SOLTI_ENV_FILE`` (opt-in: a `.env` in the working directory is
   not read on its own, so what a command does never depends on the directory it runs in);
3. the secrets directory ``SOLTI_SECRETS_DIR``, or ``/run/secrets`` when it exists: one file
   per variable, named like the variable in any case (``/run/secrets/proxmox_token_secret``),
   as Docker and Compose mount secrets.

An empty value counts as unset everywhere. Every wrong variable is reported at once in one
``ConfigError``, each with what was wrong and what is allowed, and no secret value ever appears
in it (values of ``SecretStr`` fields are left out and scrubbed from the whole message).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Any, Self

from pydantic import SecretStr, ValidationError
from pydantic.fields import FieldInfo
from pydantic_settings import (
    BaseSettings,
    DotEnvSettingsSource,
    EnvSettingsSource,
    PydanticBaseSettingsSource,
    SecretsSettingsSource,
    SettingsConfigDict,
)

from solti.provisioning.errors import ConfigError
from solti.telemetry.redaction import add_secret

__all__ = [
    "DEFAULT_SECRETS_DIR",
    "ENV_FILE_VARIABLE",
    "SECRETS_DIR_VARIABLE",
    "EnvironmentSettings",
    "environment_with_files",
    "variable_name",
]

_VARIABLE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_MAX_SECRET_FILE = 64 * 1024
ENV_FILE_VARIABLE = "SOLTI_ENV_FILE"
SECRETS_DIR_VARIABLE = "SOLTI_SECRETS_DIR"
DEFAULT_SECRETS_DIR = Path("/run/secrets")

# The environment ``from_env`` was given; None: the process environment.
_ENVIRON: ContextVar[Mapping[str, str] | None] = ContextVar("solti_settings_environ", default=None)


class _MappingEnvironment(EnvSettingsSource):
    """The environment source over a given mapping instead of ``os.environ``."""

    def __init__(self, settings_cls: type[BaseSettings], environ: Mapping[str, str]) -> None:
        super().__init__(settings_cls)
        self.env_vars = {name.lower(): value for name, value in environ.items() if value != ""}


class _SecretFiles(SecretsSettingsSource):
    """Docker secrets; an empty file counts as unset, as an empty variable does."""

    def __call__(self) -> dict[str, Any]:
        return {key: value for key, value in super().__call__().items() if value != ""}


def _env_file(environ: Mapping[str, str]) -> Path | None:
    name = environ.get(ENV_FILE_VARIABLE) or None
    if name is None:
        return None
    path = Path(name)
    if not path.is_file():
        raise ConfigError(f"{name!r} is not a readable file", key=ENV_FILE_VARIABLE)
    return path


def _secrets_dir(environ: Mapping[str, str]) -> Path | None:
    name = environ.get(SECRETS_DIR_VARIABLE) or None
    if name is None:
        return DEFAULT_SECRETS_DIR if DEFAULT_SECRETS_DIR.is_dir() else None
    path = Path(name)
    if not path.is_dir():
        raise ConfigError(f"{name!r} is not a directory", key=SECRETS_DIR_VARIABLE)
    return path


def _sources(settings_cls: type[BaseSettings]) -> list[PydanticBaseSettingsSource]:
    """Environment, then `.env`, then secrets: the order in which a value wins."""
    given = _ENVIRON.get()
    environ: Mapping[str, str] = os.environ if given is None else given
    sources: list[PydanticBaseSettingsSource] = [_MappingEnvironment(settings_cls, environ)]
    env_file = _env_file(environ)
    if env_file is not None:
        sources.append(
            DotEnvSettingsSource(settings_cls, env_file=env_file, env_file_encoding="utf-8")
        )
    secrets_dir = _secrets_dir(environ)
    if secrets_dir is not None:
        sources.append(_SecretFiles(settings_cls, secrets_dir=secrets_dir))
    return sources


def environment_with_files(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment as the settings see it, for code that reads variables by name.

    ``environ`` (default ``os.environ``) over the ``SOLTI_ENV_FILE`` file over the secrets
    directory, names from files upper-cased, empty values left out. ``solti check`` reads this,
    so a value in a Docker secret or the `.env` file counts there as it does for ``from_env``.
    """
    environ = os.environ if environ is None else environ
    try:
        secrets_dir, env_file = _secrets_dir(environ), _env_file(environ)
    except ConfigError:  # never raises: ``from_env`` reports a wrong source by name
        return {name: value for name, value in environ.items() if value != ""}
    merged = _secret_files(secrets_dir) if secrets_dir is not None else {}
    if env_file is not None:
        values = DotEnvSettingsSource(
            EnvironmentSettings, env_file=env_file, env_file_encoding="utf-8"
        ).env_vars
        merged.update({name.upper(): value or "" for name, value in values.items()})
    merged.update(environ)
    return {name: value for name, value in merged.items() if value != ""}


def _secret_files(directory: Path) -> dict[str, str]:
    """Each file named like a variable; unreadable or oversized files are skipped."""
    values: dict[str, str] = {}
    for path in sorted(directory.iterdir()):
        try:
            if _VARIABLE.match(path.name) and path.stat().st_size <= _MAX_SECRET_FILE:
                values[path.name.upper()] = path.read_text("utf-8").strip()
        except (OSError, ValueError):  # a directory, no permission, not text
            continue
    return values


@contextmanager
def _reading(environ: Mapping[str, str] | None) -> Iterator[None]:
    token = _ENVIRON.set(environ)
    try:
        yield
    finally:
        _ENVIRON.reset(token)


def variable_name(field_name: str, field: FieldInfo) -> str:
    """The environment variable of a settings field (its alias, else its name upper-cased)."""
    alias = field.validation_alias
    return alias if isinstance(alias, str) else field_name.upper()


def _is_secret(field: FieldInfo) -> bool:
    annotation = field.annotation
    return annotation is SecretStr or SecretStr in getattr(annotation, "__args__", ())


class EnvironmentSettings(BaseSettings):
    """A ``BaseSettings`` read from the three sources above; ``from_env`` reports every error."""

    model_config = SettingsConfigDict(extra="ignore", case_sensitive=False, env_ignore_empty=True)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, *_sources(settings_cls))

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Self:
        """Read the sources (``environ`` instead of ``os.environ`` when given) or raise.

        The secret values read are remembered for log redaction, wherever they came from.
        """
        with _reading(environ):
            try:
                settings = cls()
            except ValidationError as exc:
                raise cls._error_from(exc, _secret_values(cls)) from None
        for name in cls.model_fields:
            value = getattr(settings, name)
            if isinstance(value, SecretStr):
                add_secret(value.get_secret_value())
        return settings

    @classmethod
    def _new_error(cls, message: str, key: str) -> ConfigError:
        """The error to raise; the bot narrows it to its own subclass of ``ConfigError``."""
        return ConfigError(message, key=key)

    @classmethod
    def _error_from(cls, exc: ValidationError, secrets: set[str]) -> ConfigError:
        fields = {variable_name(n, f).upper(): f for n, f in cls.model_fields.items()}
        problems: list[tuple[str, str]] = []
        for error in exc.errors():
            variable = str(error["loc"][0]).upper() if error["loc"] else cls.__name__
            field = fields.get(variable)
            secret = field is not None and _is_secret(field)
            problems.append((variable, _describe(error, field, secret)))
        message = "; ".join(f"{variable}: {text}" for variable, text in problems)
        for value in sorted(secrets, key=len, reverse=True):
            message = message.replace(value, "[secret]")
        return cls._new_error(message, problems[0][0])


def _secret_values(settings_cls: type[BaseSettings]) -> set[str]:
    """Every value any source holds for a secret field, to scrub from an error message."""
    names = {
        variable_name(name, field).lower()
        for name, field in settings_cls.model_fields.items()
        if _is_secret(field)
    }
    values: set[str] = set()
    for source in _sources(settings_cls):
        for key, value in source().items():
            if key.lower() in names and isinstance(value, str) and len(value) >= 4:
                values.add(value)
    return values


_BOUNDS = {
    "greater_than_equal": ("at least", "ge"),
    "greater_than": ("more than", "gt"),
    "less_than_equal": ("at most", "le"),
    "less_than": ("less than", "lt"),
}


def _describe(error: Any, field: FieldInfo | None, secret: bool) -> str:
    """What was wrong and what is allowed, in words; a secret's value is never repeated."""
    kind = error["type"]
    allowed = (field.description or "") if field is not None else ""
    allowed = allowed if allowed.endswith("...") else allowed.removesuffix(".")
    if kind == "missing":
        return "is required but is not set" + (f" ({allowed})" if allowed else "")
    message = str(error["msg"]).removeprefix("Value error, ")
    if kind == "value_error":
        return message  # our validators say what is allowed and keep secrets out
    if kind.startswith("bool"):
        message = "must be true or false (also 1/0, yes/no, on/off)"
    elif kind.startswith("int"):
        message = "must be a whole number"
    elif kind in _BOUNDS:
        word, key = _BOUNDS[kind]
        message = f"must be {word} {error['ctx'][key]}"
    got = "" if secret else f", got {error['input']!r}"
    return f"{message}{got}"
