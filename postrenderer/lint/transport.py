"""The transport the agent's OpenLineage client builds from a container's environment.

``resolve(env, read)`` follows, step by step, what the Airflow provider and the
OpenLineage client inside the agent do when they start, and returns the
transport they end up with: its kind, and for HTTP transports which variable
(or file) gives the URL, the endpoint and the API key. For example:

    OPENLINEAGE_URL=https://o11y.astronomer.io  OPENLINEAGE_API_KEY=<Secret>
    OPENLINEAGE__TRANSPORT__TYPE=composite
    -> composite [http url OPENLINEAGE_URL key OPENLINEAGE_API_KEY]
       (the client copies the URL and key into a transport named default_http)

    ... and OPENLINEAGE__TRANSPORT__TYPE=http, OPENLINEAGE__TRANSPORT__URL=https://x
    -> http url OPENLINEAGE__TRANSPORT__URL, no key (OPENLINEAGE_API_KEY is ignored)

The rules are those of openlineage-python 1.54.0 (``client.py``: ``_alias_env_vars``,
``config``, ``_resolve_transport``; ``transport/factory.py``, ``http.py``,
``async_http.py``, ``composite.py``; ``utils.deep_merge_dicts``) and of
apache-airflow-providers-openlineage 2.20.3 (``conf.py``: ``is_disabled``;
``plugins/adapter.py``: ``get_openlineage_config``; ``token_provider.py``:
``resolve_airflow_connection_auth``, an ``airflow_connection_api_key`` auth's key
read from the connection it names), and tests/test_transport.py
checks them case by case against both real programs.

Config files and JSON values are read by the one budgeted reader
(``postrenderer.read.reader``): a value over its limits is ``Refused`` (olrender
refuses the input), never a ``RecursionError``. A config file is read once
(``read_config``), keeping only its transport section, the part modelled here.

Values are tagged with the variable they came from (``Sourced``); a value
olrender cannot see (a Secret, a file outside the stream) is ``Unseen``, and a
decision that depends on one gives the kind ``unseen``. A configuration the
client or Airflow fails on gives the kind ``error``. Only the transport is
modelled: the other sections of the configuration (facets, filters, tags) are not
read.
"""

from __future__ import annotations

from postrenderer.read import reader
from postrenderer.read.variables import (
    AIRFLOW_CONFIG_VAR,
    AIRFLOW_CONNECTION_VAR,
    AIRFLOW_DISABLED_VAR,
    CLIENT_CONFIG_VAR,
    CLIENT_DISABLED_VAR,
    DEFAULT_HTTP,
    ENDPOINT_VAR,
    KEY_VAR,
    TRANSPORT_JSON_VAR,
    TRANSPORT_TYPE_VAR,
    URL_VAR,
)

TYPE_CHECKING = False  # (typing is not imported at run time: start-up cost)
if TYPE_CHECKING:
    from collections.abc import Callable, Mapping
    from typing import Any, TypeAlias

    # path (tagged with the variable that names it) -> the file's text, the file as read (read_config),
    # its known content (tagged), Unseen, or None when it does not exist
    Reader: TypeAlias = Callable[["Sourced"], "str | FileContent | dict[str, Any] | Unseen | None"]

DYNAMIC_PREFIX = "OPENLINEAGE__"
TRANSPORT_PREFIX = "OPENLINEAGE__TRANSPORT"
HTTP_KINDS = ("http", "async_http")
# the transport types the client registers (transport/__init__.py)
KINDS = frozenset({
    "composite", "http", "async_http", "kafka", "msk_iam", "console", "noop", "file", "transform",
    "amazon_datazone", "datadog", "gcplineage",
})
# a variable's key (always lower case) -> the spellings the client reads before it (the api_key token provider)
BEATEN_BY = {"apikey": ("apiKey",), "api_key": ("apiKey", "apikey")}
CONNECTION_AUTH = "airflow_connection_api_key"  # the provider's (token_provider.py, since 2.18.0)


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
    return FileContent(_tag(content, source))


class Broken(Exception):
    """The client (or Airflow) fails on the configuration."""

    def __init__(self, by: str, problem: str, no_url: bool = False) -> None:
        super().__init__(problem)
        self.by, self.problem, self.no_url = by, problem, no_url


def _source(value: object, default: str) -> str:
    """The variable a value came from."""
    return value.source if isinstance(value, (Sourced, Unseen)) else default


def _seen(value: object) -> object:
    """The value itself, or CannotTell when olrender cannot see it."""
    if isinstance(value, Unseen):
        raise CannotTell(value)
    return value


def _tag(value: object, source: str, done: dict[int, object] | None = None) -> object:
    """A parsed JSON or YAML value with every text tagged with its source; what aliases share stays shared."""
    if isinstance(value, str):
        return Sourced(value, source)
    if not isinstance(value, (dict, list)):
        return value
    done = {} if done is None else done
    tagged = done.get(id(value))
    if tagged is None:
        if isinstance(value, dict):
            tagged = {key: _tag(item, source, done) for key, item in value.items()}
        else:
            tagged = [_tag(item, source, done) for item in value]
        done[id(value)] = tagged
    return tagged


def _json(value: Sourced) -> object:
    """A variable's JSON value, read within the reader's limits (``ValueError``: not JSON)."""
    try:
        return _tag(reader.load_json(value), value.source)
    except reader.TooLarge as exc:
        raise Refused(value.source, exc.describe()) from None


def _merge(low: dict[Any, Any], high: dict[Any, Any]) -> dict[Any, Any]:
    """``deep_merge_dicts``: ``high`` wins, and two mappings under one key are merged."""
    merged = dict(low)
    for key, value in high.items():
        if key in merged and isinstance(value, dict) and isinstance(merged[key], dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _valid_url(url: str) -> bool:
    """Whether the client accepts a URL (it needs a scheme and a host)."""
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return False
    return bool(parts.scheme and parts.netloc)


def _aliased(env: Mapping[str, object]) -> dict[str, object]:
    """The environment after the client copies ``OPENLINEAGE_URL`` and the key into ``default_http``."""
    env = dict(env)
    url, key, endpoint = env.get(URL_VAR), env.get(KEY_VAR), env.get(ENDPOINT_VAR)
    if not url or any(name.startswith(DEFAULT_HTTP) for name in env):
        return env
    auth = {"type": "api_key", "apiKey": key}
    env[DEFAULT_HTTP + "__TYPE"] = Sourced("http", URL_VAR)
    env[DEFAULT_HTTP + "__URL"] = url
    if key:
        env[DEFAULT_HTTP + "__AUTH"] = auth
    if endpoint:
        env[DEFAULT_HTTP + "__ENDPOINT"] = endpoint
    if _seen(env.get(TRANSPORT_TYPE_VAR)) == "async_http":  # "seamless switch to async": the URL and key go there too
        for name, value in (("URL", url), ("AUTH", auth if key else None), ("ENDPOINT", endpoint)):
            if value and not env.get(f"{TRANSPORT_PREFIX}__{name}"):
                env[f"{TRANSPORT_PREFIX}__{name}"] = value
    return env


def _dynamic_config(env: Mapping[str, object]) -> dict[str, Any]:
    """The configuration of the ``OPENLINEAGE__*`` variables (longer names first, so shorter ones win)."""
    config: dict[str, Any] = {}
    for name in sorted((n for n in env if n.startswith(DYNAMIC_PREFIX)), reverse=True):
        value = env[name]
        if isinstance(value, Sourced):
            try:
                value = _json(value)
            except ValueError:
                value = env[name]  # not JSON: the text itself
        *path, last = name[len(DYNAMIC_PREFIX):].lower().split("__")
        node = config
        for key in path:
            node = node.setdefault(key, {})
            if not isinstance(node, dict):
                raise Broken(name, f"{name} sets a field inside a value that is not a mapping")
        node[last] = value
    return config


def _beaten(low: dict[Any, Any], high: dict[Any, Any], by: str) -> str | None:
    """The source of the first setting of ``high`` that replaces a different one of ``low`` when merged."""
    for key, value in low.items():
        spelled = next((name for name in (*BEATEN_BY.get(key, ()), key) if name in high), None)
        if spelled is None:
            continue
        other = high[spelled]
        if isinstance(value, dict) and isinstance(other, dict):
            found = _beaten(value, other, by)
            if found:
                return found
        elif isinstance(value, Unseen) or isinstance(other, Unseen) or value != other:
            return _source(other, by)
    return None


def _overridden(env: Mapping[str, object], config: dict[str, Any], by: str) -> dict[str, str]:
    """The ``OPENLINEAGE__*`` variables (or the legacy ones copied into them) that ``config`` beats, with its source."""
    found: dict[str, str] = {}
    for name in env:
        if name.startswith(DYNAMIC_PREFIX):
            winner = _beaten(_dynamic_config({name: env[name]}), config, by)
            value = env[name]
            if winner:  # (the key copied from OPENLINEAGE_API_KEY comes as a mapping holding it)
                found.setdefault(_source(value.get("apiKey") if isinstance(value, dict) else value, name), winner)
    return found


def _file_config(path: Sourced, read: Reader, strict: bool) -> object:
    """The parsed config file (``strict``: Airflow's reading, which fails on a missing or broken file)."""
    text = _seen(read(path))
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


def _token(auth: object, by: str) -> str | None:
    """The variable whose API key the transport sends (``create_token_provider``), or None."""
    auth = _seen(auth)
    if isinstance(auth, str) and "type" not in auth:
        return None
    if not isinstance(auth, dict):
        raise Broken(by, "the transport's auth is not a mapping")
    if "type" not in auth:
        return None
    kind = _seen(auth["type"])
    if kind == "api_key":
        key = auth.get("apiKey") or auth.get("apikey") or auth.get("api_key")
        if not key:
            raise Broken(_source(kind, by), "the transport's auth type is api_key but it has no apiKey")
        return _source(key, _source(kind, by))
    if kind in ("jwt", "oauth2"):  # a token from a token endpoint, not the API key
        needs = (("apiKey", "apikey", "api_key"),) if kind == "jwt" else (("clientId", "client_id"),
                                                                          ("clientSecret", "client_secret"))
        for names in (*needs, ("token_endpoint", "tokenEndpoint")):
            if not any(auth.get(name) for name in names):
                raise Broken(_source(kind, by), f"the transport's {kind} auth has no {names[0]}")
        return None
    if isinstance(kind, str) and "." in kind:
        raise CannotTell(Unseen(_source(kind, by), f"the token provider class {kind}"))
    raise Broken(_source(kind, by), f"the transport's auth type {kind!r} is not one the client knows")


def _build(config: object, by: str) -> Resolved:
    """The transport the client's factory builds from one transport configuration."""
    config = _seen(config)
    if not config:
        return Resolved("console", by)
    if not isinstance(config, dict):
        raise Broken(by, "a transport configuration is not a mapping")
    if "type" not in config:
        raise Broken(by, "a transport has no type")
    kind = _seen(config["type"])
    by = _source(kind, by)
    try:
        int(_seen(config.get("priority", 0)))  # type: ignore[call-overload]
    except (TypeError, ValueError):
        raise Broken(by, "the transport's priority is not a number") from None
    if not isinstance(kind, str):
        raise Broken(by, f"the transport type {kind!r} is not a name")
    if kind in HTTP_KINDS:
        if "url" not in config:
            raise Broken(by, f"the {kind} transport has no URL", no_url=True)
        url = config["url"]
        if not isinstance(url, Unseen) and not (isinstance(url, str) and _valid_url(url)):
            raise Broken(_source(url, by), f"the {kind} transport's URL is not a URL with a scheme and a host")
        compression = config.get("compression")
        if compression and _seen(compression) != "gzip":
            raise Broken(_source(compression, by), f"the {kind} transport's compression is not gzip")
        endpoint, auth = config.get("endpoint"), config.get("auth", {})
        connection = auth.get("apiKey") if isinstance(auth, dict) else None
        return Resolved(kind, by, url=_source(url, by), key=_token(auth, by),
                        endpoint=None if "endpoint" not in config else _source(endpoint, by),
                        connection=str(connection) if isinstance(connection, ConnectionKey) else None)
    if kind == "composite":
        if "transports" not in config:
            raise Broken(by, "the composite transport has no transports")
        transports = _seen(config["transports"])
        if isinstance(transports, dict):
            children = [_build(child, by) for child in transports.values() if _seen(child)]
        elif isinstance(transports, list):
            children = [_build(child, by) for child in transports]
        else:
            raise Broken(by, "the composite transport's transports are neither a list nor a mapping")
        if not children:
            raise Broken(by, "the composite transport has no transports")
        return Resolved(kind, by, children=children)
    if kind in KINDS:
        return Resolved(kind, by)
    if "." in kind:
        raise CannotTell(Unseen(by, f"the transport class {kind}"))
    raise Broken(by, f"the transport type {kind!r} is not one the client knows")


def _client_disabled(env: Mapping[str, object]) -> bool:
    """Whether ``OPENLINEAGE_DISABLED`` switches the client off (it reads only ``true``, in any case)."""
    return str(env.get(CLIENT_DISABLED_VAR, "")).lower().strip() == "true"


def _client(env: Mapping[str, object], user: dict[str, Any] | None, read: Reader) -> Resolved:
    """What ``OpenLineageClient(config=user)`` builds."""
    if _client_disabled(env):
        return Resolved("disabled", CLIENT_DISABLED_VAR)
    env = _aliased(env)
    config: dict[str, Any] = dict(user or {})
    dynamic = _dynamic_config(env)
    by = (AIRFLOW_CONFIG_VAR if env.get(AIRFLOW_CONFIG_VAR) else TRANSPORT_JSON_VAR) if user else CLIENT_CONFIG_VAR
    path = _seen(env.get(CLIENT_CONFIG_VAR))
    if path:
        assert isinstance(path, Sourced)
        content = _file_config(path, read, strict=False)
        if content and not isinstance(content, dict):
            if config or dynamic or not isinstance(content, list):  # a list merges with nothing
                raise Broken(path.source, f"the config file {path} is not a YAML mapping")
            content = None
        if isinstance(content, dict) and content:
            config = _merge(content, config)
    overridden = _overridden(env, config, by) if dynamic and config else {}
    if dynamic:
        config = _merge(dynamic, config)
    transport = _seen(config.get("transport"))
    if transport:
        if not isinstance(transport, dict):
            raise Broken(_source(transport, TRANSPORT_PREFIX), "the transport configuration is not a mapping")
        if _seen(transport.get("type")):
            built = _build(transport, TRANSPORT_PREFIX)
            built.overridden = overridden
            return built
    url = env.get(URL_VAR)
    if not url:
        return Resolved("console")
    if isinstance(url, str) and not _valid_url(url):
        raise Broken(URL_VAR, f"{URL_VAR} is not a URL with a scheme and a host")
    return Resolved("http", url=URL_VAR, key=KEY_VAR if env.get(KEY_VAR) else None,
                    endpoint=ENDPOINT_VAR if ENDPOINT_VAR in env else None)


def _airflow_disabled(env: Mapping[str, object]) -> Resolved | None:
    """Whether the provider switches lineage off (``conf.is_disabled``): by a setting, or for want of any."""
    value = env.get(AIRFLOW_DISABLED_VAR)
    if isinstance(value, str):
        word = value.lower().strip().split("#")[0].strip()
        if word in ("t", "true", "1"):
            return Resolved("disabled", AIRFLOW_DISABLED_VAR)
        if word not in ("f", "false", "0"):
            raise Broken(AIRFLOW_DISABLED_VAR, f"{AIRFLOW_DISABLED_VAR} is not a boolean Airflow can read")
    if str(env.get(CLIENT_DISABLED_VAR, "")).lower().strip() in ("true", "1", "t"):
        return Resolved("disabled", CLIENT_DISABLED_VAR)
    configured = (
        env.get(AIRFLOW_CONNECTION_VAR) or _airflow_transport(env) or env.get(AIRFLOW_CONFIG_VAR)
        or env.get(CLIENT_CONFIG_VAR) or env.get(URL_VAR)
        or any(name.startswith(TRANSPORT_PREFIX) and value for name, value in env.items())
    )
    return None if configured else Resolved("disabled", problem="nothing configures a transport")


def _airflow_transport(env: Mapping[str, object]) -> object:
    """``[openlineage] transport``: the JSON of ``AIRFLOW__OPENLINEAGE__TRANSPORT``, or None."""
    value = _seen(env.get(TRANSPORT_JSON_VAR))
    if not value:
        return None
    assert isinstance(value, Sourced)
    try:
        transport = _json(value)
    except ValueError:
        raise Broken(value.source, f"{value.source} is not valid JSON") from None
    if not isinstance(transport, dict):
        raise Broken(value.source, f"{value.source} is not a JSON object")
    return transport


def _connection_auth(value: object) -> object:
    """``resolve_airflow_connection_auth``: each ``airflow_connection_api_key`` auth becomes the connection's api_key.

    The provider walks mappings, and lists only under ``transports``; the copy leaves a cached file untouched.
    """
    if not isinstance(value, dict):
        return value
    found: dict[Any, Any] = {}
    for key, item in value.items():
        if key == "auth" and isinstance(item, dict) and _seen(item.get("type")) == CONNECTION_AUTH:
            conn_id, by = item.get("conn_id"), _source(item["type"], TRANSPORT_JSON_VAR)
            if not _seen(conn_id):
                raise Broken(by, f"the transport's {CONNECTION_AUTH} auth has no conn_id")
            by = _source(conn_id, by)
            found[key] = {"type": Sourced("api_key", by), "apiKey": ConnectionKey(str(conn_id), by)}
        elif key == "transports" and isinstance(item, list):
            found[key] = [_connection_auth(child) for child in item]
        else:
            found[key] = _connection_auth(item)
    return found


def _airflow_config(env: Mapping[str, object], read: Reader) -> dict[str, Any] | None:
    """The configuration the provider hands the client (``get_openlineage_config``)."""
    connection = env.get(AIRFLOW_CONNECTION_VAR)
    if connection:
        raise CannotTell(Unseen(_source(connection, AIRFLOW_CONNECTION_VAR), "the Airflow connection it names"))
    path = _seen(env.get(AIRFLOW_CONFIG_VAR))
    if path:
        assert isinstance(path, Sourced)
        content = _file_config(path, read, strict=True)
        if content is not None and not isinstance(content, dict):
            raise Broken(path.source, f"the config file {path} is not a YAML mapping")
        found = _connection_auth(content)
        return found if isinstance(found, dict) and found else None
    transport = _airflow_transport(env)
    found = _connection_auth({"transport": transport}) if transport else None
    return found if isinstance(found, dict) else None


def resolve(env: Mapping[str, str | Unseen], read: Reader, airflow: bool = True) -> Resolved:
    """The transport the agent builds (``airflow``: the provider's view; else ``OpenLineageClient()``'s)."""
    tagged = {name: Sourced(value, name) if isinstance(value, str) else value for name, value in env.items()}
    try:
        if airflow:
            off = _airflow_disabled(tagged)
            if off is not None:
                off.partly = off.by is not None and not _client_disabled(tagged)
                return off
        return _client(tagged, _airflow_config(tagged, read) if airflow else None, read)
    except CannotTell as exc:
        return Resolved("unseen", exc.value.source, problem=exc.value.what)
    except Broken as exc:
        return Resolved("error", exc.by, problem=exc.problem, no_url=exc.no_url)
