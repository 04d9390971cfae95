"""Secrets and content search: regex rules over text files, never reporting the secret.

Built-in rules catch cloud keys, private keys, tokens and passwords in
configuration; users add their own with :class:`SecretsAnalyzer` ``(rules=...)``
or :class:`ContentSearchAnalyzer`. Binary files (a NUL byte in the first 8 KiB)
and files above ``max_file_bytes`` are skipped. A match reports the path, line,
layer and rule, and a redacted preview: the first four characters of the
secret, then asterisks.

Most text holds no secret, so each file first goes through one prefilter
(:class:`Prefilter`): the rules its name allows (looked up once per basename),
then each rule's cheap test, a keyword scan of the lower-cased text shared by
all the rules (``Rule.keywords``) or the rule's literal ``trigger``. Only the
rules that pass run their full regex. The tests are supersets of the rules'
matches, so the findings are those of running every rule on every file.

Each analyzer also records the rules it ran, as the dataset ``NAME:rules``
(``secrets:rules``, ``content-search:rules``: ``{"kind": ..., "rules": [...]}``),
even on an image with no file to search: a policy rule naming a rule that did
not run (a typo, a custom rule this analysis lacked) is then an error, not a
silent pass.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING

import attrs

from anchore.analysis.analyzer import FileInput, Result
from anchore.analysis.model import Dataset, Finding
from anchore.plugins import hookimpl

if TYPE_CHECKING:
    from anchore.analysis.engine import AnalysisContext

__all__ = [
    "BUILTIN_RULES",
    "RULES_DATASET",
    "ContentSearchAnalyzer",
    "Prefilter",
    "Rule",
    "SecretsAnalyzer",
]

#: the dataset name under which an analyzer named NAME records its rules
RULES_DATASET = "{}:rules"


def _compile(pattern: str | bytes | re.Pattern[bytes]) -> re.Pattern[bytes]:
    if isinstance(pattern, re.Pattern):
        return pattern
    return re.compile(pattern.encode() if isinstance(pattern, str) else pattern)


def _compile_optional(pattern: str | bytes | re.Pattern[bytes] | None) -> re.Pattern[bytes] | None:
    return None if pattern is None else _compile(pattern)


def _keywords(words: Iterable[str | bytes]) -> tuple[bytes, ...]:
    return tuple((w.encode() if isinstance(w, str) else w).lower() for w in words)


@attrs.frozen
class Rule:
    """A named regex; the ``secret`` group (or the whole match) is what gets redacted."""

    name: str
    pattern: re.Pattern[bytes] = attrs.field(converter=_compile)
    severity: str = "high"
    description: str = ""
    #: basename globs the rule is limited to (empty: every text file)
    files: tuple[str, ...] = ()
    #: a cheap literal test: the rule runs only on files where this regex finds something
    trigger: re.Pattern[bytes] | None = attrs.field(default=None, converter=_compile_optional)
    #: literals, one of which every match contains, ignoring case: the rule runs only on
    #: files whose lower-cased text holds one (found by one scan shared by all the rules);
    #: for case-insensitive rules, whose regex trigger would be slow
    keywords: tuple[bytes, ...] = attrs.field(default=(), converter=_keywords)


_CONFIG_FILES = (
    "*.conf",
    "*.cfg",
    "*.cnf",
    "*.ini",
    "*.env",
    ".env",
    "*.properties",
    "*.yaml",
    "*.yml",
    "*.toml",
    "*.json",
    "*.xml",
    "credentials",
    "*.credentials",
    ".netrc",
    ".pgpass",
    ".git-credentials",
    "*.tfvars",
    ".npmrc",
    ".pypirc",
)


#: Every built-in rule costs time linear in the file, so a file of long
#: lines or of many newlines cannot stall the scan. Python's regex engine backtracks: a
#: pattern is linear when no two of its parts can match the same text, or when a part
#: that could is consumed whole, as ``(?=(X))\1`` does (an atomic group that also works
#: before Python 3.11). ``^\s*`` under ``(?m)`` was the trap: from every line start of a
#: run of blank lines it rescanned the run (quadratic), and reported the first blank
#: line instead of the secret's. Rules given by users are theirs to keep linear.
BUILTIN_RULES: tuple[Rule, ...] = (
    Rule(
        "aws-access-key-id",
        rb"(?<![A-Z0-9])(?P<secret>(?:AKIA|ASIA|AGPA|AIDA|AROA|ANPA|ANVA|AIPA)[A-Z0-9]{16})(?![A-Z0-9])",
        description="AWS access key id",
        trigger=rb"A(?:KIA|SIA|GPA|IDA|ROA|NPA|NVA|IPA)",
    ),
    Rule(
        "aws-secret-access-key",
        rb"(?i)aws_?secret_?access_?key\s*[=:]\s*[\"']?(?P<secret>[A-Za-z0-9/+=]{40})(?![A-Za-z0-9/+=])",
        description="AWS secret access key",
        trigger=rb"(?i)secret_?access",
        keywords=(b"secret",),
    ),
    Rule(
        "private-key",
        rb"-----BEGIN (?:RSA |EC |DSA |OPENSSH |ENCRYPTED |PGP )?PRIVATE KEY(?: BLOCK)?-----",
        description="private key",
        trigger=rb"PRIVATE KEY",
    ),
    Rule(
        "github-token",
        rb"(?<![A-Za-z0-9_])(?P<secret>(?:ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{36}|github_pat_[A-Za-z0-9_]{82})",
        description="GitHub token",
        trigger=rb"gh[pousr]_|github_pat_",
    ),
    Rule(
        "gitlab-token",
        rb"(?<![A-Za-z0-9_-])(?P<secret>glpat-[A-Za-z0-9_-]{20})",
        description="GitLab personal access token",
        trigger=rb"glpat-",
    ),
    Rule(
        "slack-token",
        rb"(?P<secret>xox[baprs]-[A-Za-z0-9-]{10,72})",
        description="Slack token",
        trigger=rb"xox",
    ),
    Rule(
        "slack-webhook",
        rb"(?P<secret>https://hooks\.slack\.com/services/T[A-Za-z0-9_]+/B[A-Za-z0-9_]+/[A-Za-z0-9_]+)",
        description="Slack webhook",
        trigger=rb"hooks\.slack\.com",
    ),
    Rule(
        "generic-password",
        # linear (see above BUILTIN_RULES): the key is matched once, as the whole run of name
        # characters at the line's start (captured in a lookahead, then consumed), after a
        # lookahead saw a keyword in it
        rb"(?im)^[^\S\n]*[\"']?(?=[\w.-]*?(?:password|passwd|pwd|secret))(?=([\w.-]*))\1"
        rb"[\"']?\s*[=:]\s*[\"']?(?P<secret>[^\s\"'#]{6,})",
        severity="medium",
        description="password in configuration",
        files=_CONFIG_FILES,
        trigger=rb"(?i)pass|pwd|secret",
        keywords=(b"pass", b"pwd", b"secret"),
    ),
)

_PLACEHOLDERS = re.compile(
    rb"^(?:.*[$(){}<>%].*|\*+|x+|changeme|password|none|null|true|false|yes|no)$", re.I
)


class Prefilter:
    """Which of a rule set's rules can match a file: the combined cheap test.

    A rule is kept when its ``files`` globs allow the basename (decided once per
    basename), one of its ``keywords`` is in the lower-cased text (each keyword
    looked for at most once per file, whichever rules share it) and its
    ``trigger`` finds something. Each test is implied by a match of the rule's
    regex, so dropping a rule never drops a finding.
    """

    def __init__(self, rules: Sequence[Rule]) -> None:
        self.rules = tuple(rules)
        self._everywhere = tuple(rule for rule in self.rules if not rule.files)
        # each rule's globs as one regex: fnmatchcase's own translation, joined
        self._globs = [
            (rule, re.compile("|".join(fnmatch.translate(g) for g in rule.files)))
            for rule in self.rules
            if rule.files
        ]
        self._by_base: dict[str, tuple[Rule, ...]] = {}

    def for_name(self, base: str) -> tuple[Rule, ...]:
        """The rules whose ``files`` globs allow this basename, in rule order."""
        found = self._by_base.get(base)
        if found is None:
            allowed = {id(rule) for rule, globs in self._globs if globs.match(base)}
            if allowed:
                found = tuple(r for r in self.rules if not r.files or id(r) in allowed)
            else:
                found = self._everywhere
            self._by_base[base] = found
        return found

    def candidates(self, base: str, data: bytes) -> list[Rule]:
        """The rules worth running on ``data`` (a file named ``base``), in rule order."""
        lowered: bytes | None = None
        seen: dict[bytes, bool] = {}
        kept = []
        for rule in self.for_name(base):
            if rule.keywords:
                if lowered is None:
                    lowered = data.lower()
                hit = False
                for word in rule.keywords:
                    found = seen.get(word)
                    if found is None:
                        found = seen[word] = word in lowered
                    if found:
                        hit = True
                        break
                if not hit:
                    continue
            if rule.trigger is not None and not rule.trigger.search(data):
                continue
            kept.append(rule)
        return kept


def _redact(secret: bytes) -> str:
    text = secret.decode("utf-8", "replace")
    return text[:4] + "*" * max(4, len(text) - 4)


@attrs.define
class SecretsAnalyzer:
    """Regex rules over text files. ``rules`` replaces the built-ins; ``extra_rules`` adds."""

    name: str = "secrets"
    rules: Sequence[Rule] = BUILTIN_RULES
    extra_rules: Sequence[Rule] = ()
    patterns: Sequence[str] = ("**",)
    max_file_bytes: int = 1024 * 1024
    #: directories whose files are not searched (package manager docs and the like)
    skip_prefixes: Sequence[str] = (
        "/usr/share/doc/",
        "/usr/share/man/",
        "/usr/share/locale/",
        "/usr/share/zoneinfo/",
        "/usr/lib/python3/dist-packages/",
        "/proc/",
        "/sys/",
    )
    kind: str = "secret"
    prefetch: bool = False
    #: run even when no file matched, to record the rules it ran
    needs_files: bool = False

    def analyze(self, files: Sequence[FileInput], context: AnalysisContext) -> Iterable[Result]:
        rules = tuple(self.rules) + tuple(self.extra_rules)
        yield Dataset(
            RULES_DATASET.format(self.name), {"kind": self.kind, "rules": [r.name for r in rules]}
        )
        limit, skipped = self.max_file_bytes, tuple(self.skip_prefixes)
        wanted = [
            f
            for f in files
            if 0 < f.entry.size <= limit
            # executables are binaries or scripts with no secrets of their own
            and not f.entry.mode & 0o111
            and not f.path.startswith(skipped)
        ]
        by_entry = {id(f.entry): f for f in wanted}
        prefilter = Prefilter(rules)
        for entry, data in context.stream([f.entry for f in wanted]):
            if b"\0" in data[:8192]:
                continue  # a binary
            f = by_entry[id(entry)]
            candidates = prefilter.candidates(f.path.rpartition("/")[2], data)
            if candidates:
                yield from self._scan(f, data, candidates)

    def _scan(self, f: FileInput, data: bytes, rules: Sequence[Rule]) -> Iterable[Finding]:
        line_starts: list[int] | None = None
        reported: set[int] = set()  # one finding per line: the first (most specific) rule's
        for rule in rules:
            for match in rule.pattern.finditer(data):
                group = "secret" if "secret" in rule.pattern.groupindex else 0
                secret = match.group(group) or b""
                if group and _PLACEHOLDERS.match(secret.strip()):
                    continue
                if line_starts is None:
                    line_starts = [0] + [m.end() for m in re.finditer(rb"\n", data)]
                line = _line_of(line_starts, match.start())
                if line in reported:
                    continue
                reported.add(line)
                what = rule.description or rule.name
                yield Finding(
                    kind=self.kind,
                    rule=rule.name,
                    message=f"{what} in {f.path} line {line}: {_redact(secret)}",
                    # the layer that wrote this content: a secret added by rewriting a
                    # file is that layer's doing, not the one that first created the path
                    locations=(f.written_location,),
                    line=line,
                    severity=rule.severity,
                    data={"redacted": _redact(secret), "length": len(secret)},
                )


def _line_of(starts: list[int], offset: int) -> int:
    lo, hi = 0, len(starts) - 1
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if starts[mid] <= offset:
            lo = mid
        else:
            hi = mid - 1
    return lo + 1


def ContentSearchAnalyzer(
    patterns: Mapping[str, str], *, name: str = "content-search", paths: Sequence[str] = ("**",)
) -> SecretsAnalyzer:
    """Search text files for user regexes: ``{"rule-name": "regex"}``; matches are redacted."""
    rules = tuple(Rule(rule, regex, severity="info") for rule, regex in patterns.items())
    return SecretsAnalyzer(
        name=name, rules=rules, patterns=tuple(paths), kind="content-match", skip_prefixes=()
    )


@hookimpl
def anchore_analyzers() -> list[SecretsAnalyzer]:
    """This module's analyzer, registered as a built-in plugin (DEFAULT_PLUGINS)."""
    return [SecretsAnalyzer()]
