"""The transport model's values: texts tagged with their variable, what olrender cannot see, the result.

Every text of the configuration is a ``Sourced`` string that remembers the
variable (or file) it came from, so that a finding can name it; a value
olrender cannot see (a Secret, a file outside the stream) is ``Unseen``.
For example, ``OPENLINEAGE__TRANSPORT='{"type": "http", "url": "https://x"}'``
is read (``load_json``) as ``{"type": Sourced("http", "OPENLINEAGE__TRANSPORT"), ...}``,
and the client's steps (``lint.transport``) and the provider's (``lint.airflow``)
end in a ``Resolved``: ``http url OPENLINEAGE__TRANSPORT, no key``.

A decision that needs an unseen value raises ``CannotTell``; a configuration
the client or Airflow fails on raises ``Broken``; a value over the budgeted
reader's limits is ``Refused`` (olrender refuses the input). Config files are
read once (``read_config``), keeping only their transport section.
"""

from __future__ import annotations

from postrenderer.read import reader

TYPE_CHECKING = False  # (typing is not imported at run time: start-up cost)
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any, TypeAlias

    # path (tagged with the variable that names it) -> the file's text, the file as read (read_config),
    # its known content (tagged), Unseen, or None when it does not exist
    Reader: TypeAlias = Callable[["Sourced"], "str | FileContent | dict[str, Any] | Unseen | None"]

DYNAMIC_PREFIX = "OPENLINEAGE__"
TRANSPORT_PREFIX = "OPENLINEAGE__TRANSPORT"
HTTP_KINDS = ("http", "async_http")


class Sourced(str):
    """A text of the configuration, with the variable it came from."""

    source: str

    def __new__(cls, text: str, source: str) -> Sourced:
        """Tag ``text`` with ``source``."""
        self = super().__new__(cls, text)
        self.source = source
        return self


class ConnectionKey(Sourced):
    """The API key the provider reads from an Airflow connection: the text is the connection ID."""


class Unseen:
    """A value olrender cannot see: ``source`` is the variable, ``what`` says where the value lives."""

    __slots__ = ("source", "what")

    def __init__(self, source: str, what: str) -> None:
        self.source, self.what = source, what


class Resolved:
    """The transport the client builds: its kind, the variable that chose it, and where its settings come from."""

    __slots__ = ("by", "children", "connection", "endpoint", "key", "kind", "no_url", "overridden", "partly", "problem",
                 "url")

    def __init__(
        self, kind: str, by: str | None = None, *, url: str | None = None, endpoint: str | None = None,
        key: str | None = None, children: list[Resolved] | None = None, problem: str = "", no_url: bool = False,
        connection: str | None = None,
    ) -> None:
        """connection: the ID of the Airflow connection the key comes from (``key`` names the variable that says so)."""
        self.kind, self.by, self.problem, self.no_url = kind, by, problem, no_url
        self.url, self.endpoint, self.key, self.connection = url, endpoint, key, connection
        self.children = children or []
        self.overridden: dict[str, str] = {}  # OPENLINEAGE__* variable -> the configuration that beats it
        self.partly = False  # disabled for the Airflow provider only: the client alone still sends

    def sinks(self) -> list[Resolved]:
        """The HTTP transports lineage is sent through (a composite's, recursively)."""
        if self.kind in HTTP_KINDS:
            return [self]
        return [sink for child in self.children for sink in child.sinks()]

    def to_dict(self) -> dict[str, Any]:
        """The transport as JSON-ready data (variable names only, never values)."""
        data: dict[str, Any] = {"kind": self.kind, "by": self.by}
        if self.kind in HTTP_KINDS:
            data.update(url=self.url, endpoint=self.endpoint, key=self.key)
            if self.connection is not None:
                data["connection"] = self.connection
        if self.children:
            data["children"] = [child.to_dict() for child in self.children]
        if self.problem:
            data["problem"] = self.problem
        if self.overridden:
            data["overridden"] = dict(self.overridden)
        return data


class CannotTell(Exception):
    """The transport depends on a value olrender cannot see."""

    def __init__(self, value: Unseen) -> None:
        super().__init__(value.what)
        self.value = value


class Refused(Exception):
    """A value is over one of the reader's limits: olrender refuses the input instead of modelling it."""

    def __init__(self, by: str, problem: str) -> None:
        super().__init__(f"{by}: {problem}")
        self.by, self.problem = by, problem


class FileContent:
    """A config file as the model reads it: its transport section (texts tagged), or not valid YAML."""

    __slots__ = ("content", "valid")

    def __init__(self, content: object, valid: bool = True) -> None:
        self.content, self.valid = content, valid


def read_config(text: str, source: str) -> FileContent:
    """Read a config file as the client does (``yaml.safe_load``) within the reader's limits (else TooLarge)."""
    import yaml

    try:
        content = reader.load(text, client=True)[0]
    except yaml.YAMLError:
        return FileContent(None, valid=False)
    if isinstance(content, dict):  # only the transport is modelled: the rest of a large file is not kept
        content = {"transport": content["transport"]} if "transport" in content else {}
    return FileContent(tag(content, source))


class Broken(Exception):
    """The client (or Airflow) fails on the configuration."""

    def __init__(self, by: str, problem: str, no_url: bool = False) -> None:
        super().__init__(problem)
        self.by, self.problem, self.no_url = by, problem, no_url


def source_of(value: object, default: str) -> str:
    """The variable a value came from."""
    return value.source if isinstance(value, (Sourced, Unseen)) else default


def seen(value: object) -> object:
    """The value itself, or CannotTell when olrender cannot see it."""
    if isinstance(value, Unseen):
        raise CannotTell(value)
    return value


def tag(value: object, source: str, done: dict[int, object] | None = None) -> object:
    """A parsed JSON or YAML value with every text tagged with its source; what aliases share stays shared."""
    if isinstance(value, str):
        return Sourced(value, source)
    if not isinstance(value, (dict, list)):
        return value
    done = {} if done is None else done
    tagged = done.get(id(value))
    if tagged is None:
        if isinstance(value, dict):
            tagged = {key: tag(item, source, done) for key, item in value.items()}
        else:
            tagged = [tag(item, source, done) for item in value]
        done[id(value)] = tagged
    return tagged


def load_json(value: Sourced) -> object:
    """A variable's JSON value, read within the reader's limits (``ValueError``: not JSON)."""
    try:
        return tag(reader.load_json(value), value.source)
    except reader.TooLarge as exc:
        raise Refused(value.source, exc.describe()) from None


def file_config(path: Sourced, read: Reader, strict: bool) -> object:
    """The parsed config file (``strict``: Airflow's reading, which fails on a missing or broken file)."""
    text = seen(read(path))
    if text is None:
        if strict:
            raise Broken(path.source, f"{path.source} names {path}, which does not exist")
        return None  # the client then looks for ./openlineage.yml and ~/.openlineage/openlineage.yml (the image's)
    if isinstance(text, dict):
        return text
    if isinstance(text, str):
        try:
            text = read_config(text, path.source)
        except reader.TooLarge as exc:
            raise Refused(path.source, f"the config file {path}: {exc.describe()}") from None
    assert isinstance(text, FileContent)
    if not text.valid and strict:
        raise Broken(path.source, f"the config file {path} is not valid YAML")
    return text.content  # (None when not valid: the client logs the error and reads nothing)
