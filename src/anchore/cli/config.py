"""Configuration: ``anchore.yaml``, ``ANCHORE_*`` variables and flags; ``anchore config``.

The keys are the commands' own long options (``fail-on``, ``platform``, ``db``...), read
off the argparse parser, so a new option is configurable without a table to keep. A
value becomes the option's parser default (validated exactly as the flag would be), so
a flag still wins. Precedence, lowest first: the parser's defaults < the user file <
the project file < ``ANCHORE_*`` variables < flags; within one source a command's
section (``vulns: {fail-on: high}``) beats a top-level key. Nothing is ignored: an
unknown key, a bad value or a YAML that does not parse is a :class:`ConfigError`
(docs/configuration.md).
"""

from __future__ import annotations

import argparse
import difflib
import json
import os
import re
import sys
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import attrs
import yaml

from anchore.cli import completion, output
from anchore.cli.common import UsageError, remember_configured
from anchore.documents import load_yaml
from anchore.errors import ConfigError

__all__ = [
    "CONFIG_ENV",
    "Loaded",
    "Option",
    "Setting",
    "add_config_flag",
    "add_parsers",
    "apply",
    "commands",
    "config_files",
    "effective",
    "env_name",
    "key_rows",
    "load",
    "options",
    "report",
]

#: names a configuration file, read instead of the project and user files
CONFIG_ENV = "ANCHORE_CONFIG"
#: the project file's names, in the current directory (one of them, not both)
PROJECT_FILES = ("anchore.yaml", ".anchore.yaml")
#: ``--config /dev/null`` (or $ANCHORE_CONFIG=/dev/null): read no configuration file at all,
#: not even ./anchore.yaml (a CI job on a pull request must not take the branch's settings)
NO_FILE = os.devnull
#: options that describe one run (which image, which layer, where this output goes):
#: not configurable, as a configured ``tag`` would silently pick a different image
PER_RUN = frozenset(
    {
        "base", "config", "declared", "file", "image", "installed", "json", "kinds",
        "layer", "list", "long", "name", "own", "param", "password-stdin", "path", "rescan",
        "tag", "tag-as", "title", "type", "username",
    }
)  # fmt: skip
#: an option whose variable is not ANCHORE_<KEY>: the name the library already reads
ENV_NAMES = {"db": "ANCHORE_VULN_DB"}
#: commands a variable does not reach, where leaving the option out means something:
#: $ANCHORE_VULN_DB names the default store, but `catalog add` matches only when --db is
#: given, and `catalog rematch` wants the store named (it re-records every image's matches)
ENV_SKIPS = {"ANCHORE_VULN_DB": {("catalog", "add"), ("catalog", "rematch")}}
#: ANCHORE_* variables read elsewhere (by the library, the tests, the old anchore-cli):
#: the configuration leaves them alone; ``*`` ends a prefix
OTHER_ENV = (
    CONFIG_ENV,
    "ANCHORE_REGISTRY_USERNAME",
    "ANCHORE_REGISTRY_PASSWORD",
    "ANCHORE_REGISTRY_HOST",
    "ANCHORE_PLUGIN_PATH",
    "ANCHORE_FEED_*",
    "ANCHORE_CORPUS",
    "ANCHORE_CLI_*",
)
#: variables whose value is a secret: shown as ``***``
SECRET_ENV = frozenset({"ANCHORE_REGISTRY_PASSWORD", "ANCHORE_CLI_PASS"})
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


_FLAGS = (argparse._StoreTrueAction, argparse._StoreFalseAction, argparse.BooleanOptionalAction)
#: actions no value can be configured for: a count, a constant, help (a command's own
#: Action subclass taking a value, like ``db --db``, is configurable)
_NOT_CONFIGURABLE = (
    argparse._HelpAction,
    argparse._VersionAction,
    argparse._CountAction,
    argparse._StoreConstAction,
    argparse._AppendConstAction,
    argparse._SubParsersAction,
)


def _configurable(action: argparse.Action) -> bool:
    if isinstance(action, _FLAGS):
        return True
    return not isinstance(action, _NOT_CONFIGURABLE) and action.nargs != 0


@attrs.frozen
class Option:
    """One configurable option of one (sub)command's parser."""

    #: the command words (``("db",)``, ``("catalog", "add")``; ``()`` the top level)
    command: tuple[str, ...]
    #: the key: the option's long flag without ``--`` (``fail-on``)
    key: str
    parser: argparse.ArgumentParser = attrs.field(eq=False, repr=False)
    action: argparse.Action = attrs.field(eq=False, repr=False)

    @property
    def kind(self) -> str:
        """``flag`` (true/false), ``list`` (repeatable) or ``value``."""
        if isinstance(self.action, _FLAGS):
            return "flag"
        if isinstance(self.action, argparse._AppendAction) or self.action.nargs in ("+", "*"):
            return "list"  # repeatable (append, extend) or taking several values
        return "value"

    @property
    def signature(self) -> tuple[Any, ...]:
        """What the key means: two options with one signature take the same values."""
        return (self.kind, self.action.type, tuple(self.action.choices or ()))


@attrs.frozen
class Setting:
    """One configured value and where it came from."""

    #: ``()`` for a top-level key, else the section's command words
    command: tuple[str, ...]
    key: str
    value: Any
    #: a file's path, ``$NAME`` for a variable
    source: str


def _long_flag(action: argparse.Action) -> str | None:
    flags = [s for s in action.option_strings if s.startswith("--")]
    return flags[0][2:] if flags else None


def _children(parser: argparse.ArgumentParser) -> Iterator[tuple[str, argparse.ArgumentParser]]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            seen: set[int] = set()
            for name, child in action.choices.items():
                if id(child) not in seen:  # an alias names the same parser
                    seen.add(id(child))
                    yield name, child


def options(parser: argparse.ArgumentParser) -> list[Option]:
    """Every configurable option of ``parser`` and its subcommands, top level first.

    An option with a SUPPRESS default whose key an enclosing command also has (``-q``
    after the command, ``db load --db``) is that command's option spelt later: it is
    configured there, not twice."""
    found: list[Option] = []

    def walk(p: argparse.ArgumentParser, command: tuple[str, ...], above: set[str]) -> None:
        here = set(above)
        for action in p._actions:
            key = _long_flag(action)
            if key is None or key in PER_RUN or not _configurable(action):
                continue
            if action.default is argparse.SUPPRESS and key in above:
                continue
            found.append(Option(command, key, p, action))
            here.add(key)
        for name, child in _children(p):
            walk(child, (*command, name), here)

    walk(parser, (), set())
    return found


def commands(parser: argparse.ArgumentParser) -> set[tuple[str, ...]]:
    """Every command path (``()``, ``("vulns",)``, ``("catalog", "add")``...)."""
    found: set[tuple[str, ...]] = set()

    def walk(p: argparse.ArgumentParser, command: tuple[str, ...]) -> None:
        found.add(command)
        for name, child in _children(p):
            walk(child, (*command, name))

    walk(parser, ())
    return found


def key_rows(parser: argparse.ArgumentParser) -> list[tuple[str, str, str]]:
    """(key, the commands it applies to, its variable or ``-``) per top-level key: the
    table docs/configuration.md carries (and its test compares)."""
    model = _Model(parser)
    rows = []
    for key in model.keys_under(()):
        targets = model.under((), key)
        names = {" ".join(o.command) or "every command" for o in targets}
        where = ", ".join(sorted(names, key=lambda c: (c.count(" "), c)))
        variable = env_name(key) if len({o.signature for o in targets}) == 1 else "-"
        rows.append((key, where, variable))
    return rows


def env_name(key: str) -> str:
    """``fail-on`` -> ``ANCHORE_FAIL_ON``; ``db`` -> ``ANCHORE_VULN_DB``, the name the
    library already reads."""
    return ENV_NAMES.get(key) or "ANCHORE_" + key.upper().replace("-", "_")


def _is_other_env(name: str) -> bool:
    return any(name.startswith(o[:-1]) if o.endswith("*") else name == o for o in OTHER_ENV)


# ------------------------------------------------------------------ reading sources
class _UniqueKeyLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    """The safe loader, refusing a key given twice in one mapping: YAML would keep the
    last silently, and the first ``fail-on`` is the one a reader of the file sees."""

    def construct_mapping(self, node: Any, deep: bool = False) -> Any:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            if isinstance(key, str) and key in seen:
                line = key_node.start_mark.line + 1
                raise yaml.constructor.ConstructorError(
                    None, None, f"the key {key!r} is given twice (again at line {line})"
                )
            seen.add(key)
        return super().construct_mapping(node, deep)


def _read_file(path: Path) -> dict[str, Any]:
    def fail(problem: str) -> ConfigError:
        return ConfigError(f"{path}: {problem}")

    try:
        text = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the configuration file: {exc.strerror}") from None
    try:
        doc = load_yaml(text, fail, loader=_UniqueKeyLoader)
    except ConfigError:
        raise
    except Exception as exc:  # yaml.YAMLError, and a bad encoding
        problem = re.sub(r' in "<[^>]*>",', ",", " ".join(str(exc).split()))
        raise ConfigError(f"{path}: not valid YAML: {problem}") from None
    if doc is None:
        return {}
    if not isinstance(doc, dict):
        raise ConfigError(f"{path}: a configuration is a mapping of keys to values, "
                          f"not a {type(doc).__name__}")  # fmt: skip
    return doc


def _named_files(argv: Sequence[str]) -> list[str]:
    """Every ``--config FILE`` (or ``--config=FILE``) in ``argv``, in order."""
    named = []
    for i, word in enumerate(argv):
        if word == "--":
            break
        if word == "--config" and i + 1 < len(argv):
            named.append(argv[i + 1])
        elif word.startswith("--config="):
            named.append(word.split("=", 1)[1])
    return named


def _explicit_file(argv: Sequence[str], environ: Mapping[str, str]) -> tuple[str, str] | None:
    """(path, how it was named) from ``--config FILE`` in ``argv``, else $ANCHORE_CONFIG."""
    named = _named_files(argv)
    if named:
        return named[0], "--config"
    if environ.get(CONFIG_ENV):
        return environ[CONFIG_ENV], f"${CONFIG_ENV}"
    return None


def config_files(
    argv: Sequence[str], environ: Mapping[str, str], cwd: Path
) -> tuple[list[Path], list[Path]]:
    """(the files to read, lowest precedence first; the places looked at).

    ``--config FILE`` or $ANCHORE_CONFIG: that file alone, and it must exist
    (:data:`NO_FILE`: no file at all). Otherwise
    the user file then the project file, each if it exists (the project's keys win)."""
    explicit = _explicit_file(argv, environ)
    if explicit:
        path, how = explicit
        if not path:
            raise ConfigError(f"{how} names no file")
        if path == NO_FILE:
            return [], []
        if not Path(path).is_file():
            raise ConfigError(f"{path}: no such configuration file (named by {how})")
        return [Path(path)], [Path(path)]
    home = environ.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    user = Path(home) / "anchore" / "anchore.yaml"
    project = [cwd / name for name in PROJECT_FILES]
    present = [p for p in project if p.is_file()]
    if len(present) > 1:
        raise ConfigError(f"{cwd}: both {PROJECT_FILES[0]} and {PROJECT_FILES[1]} are here; "
                          "keep one (anchore would not know which to read)")  # fmt: skip
    looked = [user, *project]
    return [p for p in (user, *present) if p.is_file()], looked


def _closest(word: str, known: Sequence[str]) -> str:
    near = difflib.get_close_matches(word, known, n=1, cutoff=0.6)
    return f"; did you mean {near[0]!r}?" if near else ""


class _Model:
    """The options of a parser by command and key, for reading sources against."""

    def __init__(self, parser: argparse.ArgumentParser) -> None:
        self.options = options(parser)
        self.commands = commands(parser)

    def under(self, command: tuple[str, ...], key: str) -> list[Option]:
        """The options ``key`` at ``command`` sets: its own and its subcommands'."""
        n = len(command)
        return [o for o in self.options if o.key == key and o.command[:n] == command]

    def keys_under(self, command: tuple[str, ...]) -> list[str]:
        n = len(command)
        return sorted({o.key for o in self.options if o.command[:n] == command})

    def subcommands(self, command: tuple[str, ...]) -> list[str]:
        n = len(command)
        return sorted({c[n] for c in self.commands if len(c) == n + 1 and c[:n] == command})


def _where(source: str, command: tuple[str, ...], key: str) -> str:
    """``FILE: vulns.fail-on`` (a variable names its key itself: ``$ANCHORE_FAIL_ON``)."""
    return source if source.startswith("$") else f"{source}: {'.'.join((*command, key))}"


def _convert(option: Option, value: Any, where: str) -> Any:
    """``value`` as the flag's action would store it; ConfigError when the flag would fail."""
    if option.kind == "flag":
        if not isinstance(value, bool):
            raise ConfigError(f"{where}: expected true or false, not {value!r}")
        return value
    if option.kind == "list":
        items = value if isinstance(value, list) else None
        if items is None:
            raise ConfigError(f"{where}: expected a list, not {value!r}")
        return [_scalar(option, v, where) for v in items]
    return _scalar(option, value, where)


def _scalar(option: Option, value: Any, where: str) -> Any:
    action = option.action
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise ConfigError(f"{where}: expected a single value (text or a number), not {value!r}")
    text = str(value)
    if text == "~" or text.startswith("~/"):  # a file's paths, as a shell expands a flag's
        text = os.path.expanduser(text)
    converted: Any = text
    if callable(action.type):
        try:
            converted = action.type(text)
        except (argparse.ArgumentTypeError, TypeError, ValueError) as exc:
            raise ConfigError(f"{where}: {text!r} is not valid: {exc}") from None
    if action.choices is not None and converted not in action.choices:
        choices = ", ".join(map(str, action.choices))
        raise ConfigError(f"{where}: {text!r} is not one of {choices}")
    return converted


def _from_mapping(
    model: _Model, doc: Mapping[str, Any], source: str, command: tuple[str, ...] = ()
) -> list[tuple[Setting, list[Option]]]:
    """The settings of a file's mapping (a command's section when ``command``)."""
    found: list[tuple[Setting, list[Option]]] = []
    subs = model.subcommands(command)
    for key, value in doc.items():
        if not isinstance(key, str):
            raise ConfigError(f"{source}: the key {key!r} is not text")
        if key in subs and isinstance(value, dict):
            found += _from_mapping(model, value, source, (*command, key))
            continue
        targets = model.under(command, key)
        if not targets:
            if key in subs:
                raise ConfigError(f"{_where(source, command, key)}: a command's section is a "
                                  f"mapping of its options, not {value!r}")  # fmt: skip
            known = model.keys_under(command) + subs
            raise ConfigError(f"{_where(source, command, key)}: unknown key"
                              f"{_closest(key, known)}")  # fmt: skip
        found.append((_setting(targets, command, key, value, source), targets))
    return found


def _setting(
    targets: list[Option], command: tuple[str, ...], key: str, value: Any, source: str
) -> Setting:
    where = _where(source, command, key)
    meanings = {o.signature for o in targets}
    if len(meanings) > 1:
        users = sorted({" ".join(o.command) for o in targets})
        shown = ", ".join(users[:4]) + (f" and {len(users) - 4} more" if len(users) > 4 else "")
        example = f"{next(u for u in users if u != 'config')}: {{{key}: ...}}"
        if source.startswith("$"):  # a variable has no section to move to
            raise ConfigError(f"{source}: --{key} means different things to {shown}, so it "
                              f"has no variable; unset {source} and set {key} in a command's "
                              f"section of anchore.yaml (e.g. {example})")  # fmt: skip
        raise ConfigError(f"{where}: --{key} means different things to {shown}; "
                          f"set it in a command's section (e.g. {example})")  # fmt: skip
    converted = _convert(targets[0], value, where)
    for other in targets[1:]:  # same signature: same conversion, kept for its own parser
        _convert(other, value, where)
    return Setting(command, key, converted, source)


def _from_environ(model: _Model, environ: Mapping[str, str]) -> list[tuple[Setting, list[Option]]]:
    """The ``ANCHORE_<KEY>`` variables: top-level keys, a list comma-separated."""
    by_name = {env_name(k): k for k in model.keys_under(())}
    found: list[tuple[Setting, list[Option]]] = []
    for name in sorted(environ):
        if not name.startswith("ANCHORE_") or _is_other_env(name):
            continue
        key = by_name.get(name)
        if key is None:
            others = [o for o in OTHER_ENV if not o.endswith("*")]
            _check_unknown_env(name, [*by_name, *others])
            continue
        text = environ[name]
        if not text.strip():
            continue  # empty: as if unset, as $ANCHORE_VULN_DB and the others always were
        skipped = ENV_SKIPS.get(name, set())
        targets = [o for o in model.under((), key) if o.command not in skipped]
        option = targets[0]
        value: Any = text
        if option.kind == "flag":
            if text.strip().lower() not in _TRUE | _FALSE:
                raise ConfigError(f"${name}: expected true or false (1/0, yes/no), "
                                  f"not {text!r}")  # fmt: skip
            value = text.strip().lower() in _TRUE
        elif option.kind == "list":
            value = [part.strip() for part in text.split(",") if part.strip()]
        found.append((_setting(targets, (), key, value, f"${name}"), targets))
    return found


def _check_unknown_env(name: str, known: list[str]) -> None:
    """A variable that is not ours is left alone, unless it is a near miss of one of
    ours or of one the library reads (``ANCHORE_FAIL_ONN``, ``ANCHORE_PLUGINS_PATH``): a
    typo silently ignored would fail open."""
    suffixes = {k.removeprefix("ANCHORE_"): k for k in known}
    near = difflib.get_close_matches(name.removeprefix("ANCHORE_"), list(suffixes), 1, 0.8)
    if near:
        raise ConfigError(f"${name} is not a setting anchore knows; did you mean "
                          f"${suffixes[near[0]]}? (unset it if it is another tool's)")  # fmt: skip


def unknown_env(parser: argparse.ArgumentParser, environ: Mapping[str, str]) -> list[str]:
    """ANCHORE_* variables that are neither settings nor read elsewhere: ignored."""
    known = {env_name(k) for k in _Model(parser).keys_under(())}
    return sorted(
        n for n in environ if n.startswith("ANCHORE_") and n not in known and not _is_other_env(n)
    )


@attrs.frozen
class Loaded:
    """Every setting, lowest precedence first, and the files behind them."""

    settings: list[tuple[Setting, list[Option]]]
    files: list[Path]
    looked: list[Path]


def load(
    parser: argparse.ArgumentParser,
    argv: Sequence[str],
    environ: Mapping[str, str] | None = None,
    cwd: Path | None = None,
) -> Loaded:
    """Read the files and ``ANCHORE_*`` variables against ``parser``'s options."""
    environ = os.environ if environ is None else environ
    model = _Model(parser)
    files, looked = config_files(argv, environ, cwd or Path.cwd())
    settings: list[tuple[Setting, list[Option]]] = []
    for path in files:
        settings += _from_mapping(model, _read_file(path), str(path))
    settings += _from_environ(model, environ)
    return Loaded(settings, files, looked)


def effective(loaded: Loaded) -> dict[int, tuple[Option, Setting]]:
    """Per option (by id of its action): the setting that wins. Sources in precedence
    order; within one source, deeper sections later."""
    won: dict[int, tuple[Option, Setting]] = {}
    order: dict[str, int] = {}
    for setting, _ in loaded.settings:  # sources in the order read: files, then variables
        order.setdefault(setting.source, len(order))
    ranked = sorted(loaded.settings, key=lambda st: (order[st[0].source], len(st[0].command)))
    for setting, targets in ranked:
        for option in targets:
            won[id(option.action)] = (option, setting)
    return won


def apply(parser: argparse.ArgumentParser, argv: list[str]) -> None:
    """Make the configuration the parser's defaults (flags still win); ``argv`` is the
    command line about to be parsed (for ``--config FILE``). ``--config`` twice reads
    nothing: parsing refuses it (a usage error), as which file wins would be a guess."""
    add_config_flag(parser, top=True)
    remember_configured({}, argv)
    if len(_named_files(argv)) > 1:
        return
    try:
        loaded = load(parser, argv)
    except ConfigError:
        if _asks_only_for_help(argv):
            return  # --version and --help work whatever the configuration holds
        raise
    given: dict[str, list[tuple[Any, str]]] = {}
    for option, setting in effective(loaded).values():
        option.parser.set_defaults(**{option.action.dest: setting.value})
        option.action.required = False  # ``evaluate --bundle``: the configuration gave it
        given.setdefault(option.action.dest, []).append((setting.value, setting.source))
    remember_configured(given, argv)  # a value meant for images is not used on an SBOM


def _asks_only_for_help(argv: Sequence[str]) -> bool:
    words = list(argv)[: list(argv).index("--")] if "--" in argv else list(argv)
    return any(w in ("--version", "-h", "--help") for w in words)


class _ConfigFile(argparse.Action):
    """``--config FILE``, refused a second time anywhere on the command line (before or
    after the command: the parsers of one tree share ``given``)."""

    def __init__(self, *args: Any, given: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.given = given

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace,
                 values: Any, option_string: str | None = None) -> None:  # fmt: skip
        if self.given:
            parser.error(f"--config given twice ({self.given[0]} and {values}): give one file")
        self.given.append(str(values))
        setattr(namespace, self.dest, values)


def add_config_flag(
    parser: argparse.ArgumentParser, top: bool = True, given: list[str] | None = None
) -> None:
    """``--config FILE`` before or after any command (read by :func:`apply`, from argv)."""
    given = [] if given is None else given
    parser.add_argument(
        "--config",
        action=_ConfigFile,
        given=given,
        metavar="FILE",
        default=None if top else argparse.SUPPRESS,
        help=f"read this configuration file (also ${CONFIG_ENV}) instead of ./anchore.yaml "
        f"and ~/.config/anchore/anchore.yaml; {NO_FILE} reads none",
    )
    for _, child in _children(parser):
        add_config_flag(child, top=False, given=given)


# ------------------------------------------------------------------ anchore config
def _shown(value: Any) -> Any:
    """A value as JSON/YAML carries it (a Platform as its text)."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (list, tuple)):
        return [_shown(v) for v in value]
    return str(value)


def _secret(name: str, value: str) -> str:
    return "***" if name in SECRET_ENV or "PASS" in name or "TOKEN" in name else value


def _redacted(value: Any) -> Any:
    """``value`` with the password of any URL in it as ``***`` (the catalog's
    ``postgresql://user:password@host/db``, a feed or ``--dask`` address): the catalog's
    one redactor, imported here only, so that startup does not load SQLAlchemy."""
    from anchore.catalog.database import redact

    if isinstance(value, str):
        return redact(value) if "//" in value else value
    if isinstance(value, list):
        return [_redacted(v) for v in value]
    return value


def report(
    parser: argparse.ArgumentParser,
    argv: Sequence[str],
    environ: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    command: Sequence[str] = (),
) -> dict[str, Any]:
    """The effective configuration of a fresh ``parser``: every key with its value and
    where it came from (``default``, a file, ``$VAR``); one row per command where they
    differ, or only ``command``'s options when given. Also the files read, the other
    ANCHORE_* variables (secrets as ``***``) and the ignored ones. A URL's password (the
    catalog's PostgreSQL one) is never shown: this is what a CI log prints."""
    environ = os.environ if environ is None else environ
    loaded = load(parser, argv, environ, cwd)
    won = effective(loaded)
    chosen = tuple(command)
    if chosen and chosen not in commands(parser):
        raise UsageError(f"there is no command {' '.join(chosen)!r}")
    by_key: dict[str, list[tuple[Option, Any, str]]] = {}
    for option in options(parser):
        if chosen and chosen[: len(option.command)] != option.command:
            continue  # another command's; its parents' (-q, db --db) are this one's
        hit = won.get(id(option.action))
        value, source = (hit[1].value, hit[1].source) if hit else (option.action.default, "default")
        by_key.setdefault(option.key, []).append((option, _redacted(_shown(value)), source))
    rows: list[dict[str, Any]] = []
    for key in sorted(by_key):
        entries = by_key[key]
        if chosen:  # the deepest: the command's own option, else its parent's
            entries = [max(entries, key=lambda e: len(e[0].command))]
        # one row when every command has the same; else a row per command that differs
        # from the default, and one row for the rest when their defaults agree
        defaults = [e for e in entries if e[2] == "default"]
        if len({repr(v) for _, v, _ in defaults}) > 1:
            defaults = []
        shared = defaults if len(defaults) < len(entries) else entries
        if len({(repr(v), src) for _, v, src in entries}) == 1:
            shared = entries
        for option, value, source in entries:
            if not any(option is o for o, _, _ in shared):
                rows.append({"key": ".".join((*option.command, key)), "value": value,
                             "source": source})  # fmt: skip
        if shared:
            _, value, source = shared[0]
            rows.append({"key": key, "value": value, "source": source})
    rows.sort(key=lambda r: str(r["key"]))
    return {
        "files": [str(p) for p in loaded.files],
        "searched": [str(p) for p in loaded.looked],
        "settings": rows,
        "environment": {
            n: _redacted(_secret(n, environ[n]))
            for n in sorted(environ)
            if n.startswith("ANCHORE_") and _is_other_env(n)
        },
        "ignored": unknown_env(parser, environ),
    }


def cmd_config(args: argparse.Namespace) -> int:
    from anchore.cli import build_parser  # the package imports this module

    out = output
    argv = ["--config", args.config] if getattr(args, "config", None) else []
    fresh = build_parser()
    add_config_flag(fresh, top=True)
    shown = report(fresh, argv, command=args.for_command)
    fmt = out.output_format(args)
    if args.path:
        read = set(shown["files"])
        if fmt == "table":
            out.print_table(("FILE", "STATUS"), [
                (p, "read" if p in read else "not found") for p in shown["searched"]
            ])  # fmt: skip
        else:
            _dump(fmt, {"files": shown["files"], "searched": shown["searched"]})
        return 0
    if fmt != "table":
        _dump(fmt, shown)
        return 0
    out.print_table(
        ("KEY", "VALUE", "FROM"),
        [
            (r["key"], "-" if r["value"] == [] else r["value"], r["source"])
            for r in shown["settings"]
        ],
        keep=(0,),
    )
    print()
    print("files read: " + (", ".join(shown["files"]) or "none"))
    for name, value in shown["environment"].items():
        print(f"also in effect: {name}={value}")
    if shown["ignored"]:
        print("ignored (not anchore settings): " + ", ".join(shown["ignored"]))
    return 0


def _dump(fmt: str, data: Any) -> None:
    if fmt == "json":
        print(json.dumps(data, indent=2))
    else:
        sys.stdout.write(yaml.safe_dump(data, sort_keys=False))


def add_parsers(sub: Any) -> None:
    """Register ``config`` and ``completion``."""
    out = output
    p = sub.add_parser(
        "config",
        help="the effective configuration: each key, its value and where it came from",
        description="Print every configurable key with the value in effect and where it came "
        "from: default, a configuration file, an ANCHORE_* variable (docs/configuration.md).",
    )
    out.output_arg(p, ("table", "json", "yaml"))
    p.add_argument(
        "for_command",
        nargs="*",
        metavar="COMMAND",
        help="only the options of this command (vulns, catalog add...), as it would run",
    )
    p.add_argument("--path", action="store_true", help="only the files looked for and read")
    p.set_defaults(func=cmd_config)
    completion.add_parser(sub)
