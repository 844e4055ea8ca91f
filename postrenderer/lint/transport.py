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

This module holds the client's steps and ``resolve``; the provider's steps
(whether lineage is on, the configuration it hands the client) are in
``lint.airflow``, the values they pass (``Sourced``, ``Unseen``, ``Resolved``)
in ``lint.model``.

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

import re

from postrenderer.lint.airflow import airflow_config, airflow_disabled
from postrenderer.lint.model import (
    DYNAMIC_PREFIX,
    HTTP_KINDS,
    TRANSPORT_PREFIX,
    Broken,
    CannotTell,
    ConnectionKey,
    Resolved,
    Sourced,
    Unseen,
    file_config,
    load_json,
    seen,
    source_of,
)
from postrenderer.read.variables import (
    AIRFLOW_CONFIG_VAR,
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
    from collections.abc import Mapping
    from typing import Any

    from postrenderer.lint.model import Reader

# the transport types the client registers (transport/__init__.py)
KINDS = frozenset({
    "composite", "http", "async_http", "kafka", "msk_iam", "console", "noop", "file", "transform",
    "amazon_datazone", "datadog", "gcplineage",
})
# a variable's key (always lower case) -> the spellings the client reads before it (the api_key token provider)
BEATEN_BY = {"apikey": ("apiKey",), "api_key": ("apiKey", "apikey")}


_PLAIN_URL_RE = re.compile(r"https?://[A-Za-z0-9.-]+(?::[0-9]{1,5})?(?:/[!-~]*)?")


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
    """Whether the client accepts a URL (it needs a scheme and a host, as ``urlsplit`` reads them)."""
    url = url.strip()
    if _PLAIN_URL_RE.fullmatch(url):  # (urlsplit finds both in these; a test checks it; no import of urllib)
        return True
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(url)
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
    if seen(env.get(TRANSPORT_TYPE_VAR)) == "async_http":  # "seamless switch to async": the URL and key go there too
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
                value = load_json(value)
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
            return source_of(other, by)
    return None


def _overridden(env: Mapping[str, object], config: dict[str, Any], by: str) -> dict[str, str]:
    """The ``OPENLINEAGE__*`` variables (or the legacy ones copied into them) that ``config`` beats, with its source."""
    found: dict[str, str] = {}
    for name in env:
        if name.startswith(DYNAMIC_PREFIX):
            winner = _beaten(_dynamic_config({name: env[name]}), config, by)
            value = env[name]
            if winner:  # (the key copied from OPENLINEAGE_API_KEY comes as a mapping holding it)
                found.setdefault(source_of(value.get("apiKey") if isinstance(value, dict) else value, name), winner)
    return found


def _token(auth: object, by: str) -> str | None:
    """The variable whose API key the transport sends (``create_token_provider``), or None."""
    auth = seen(auth)
    if isinstance(auth, str) and "type" not in auth:
        return None
    if not isinstance(auth, dict):
        raise Broken(by, "the transport's auth is not a mapping")
    if "type" not in auth:
        return None
    kind = seen(auth["type"])
    if kind == "api_key":
        key = auth.get("apiKey") or auth.get("apikey") or auth.get("api_key")
        if not key:
            raise Broken(source_of(kind, by), "the transport's auth type is api_key but it has no apiKey")
        return source_of(key, source_of(kind, by))
    if kind in ("jwt", "oauth2"):  # a token from a token endpoint, not the API key
        needs = (("apiKey", "apikey", "api_key"),) if kind == "jwt" else (("clientId", "client_id"),
                                                                          ("clientSecret", "client_secret"))
        for names in (*needs, ("token_endpoint", "tokenEndpoint")):
            if not any(auth.get(name) for name in names):
                raise Broken(source_of(kind, by), f"the transport's {kind} auth has no {names[0]}")
        return None
    if isinstance(kind, str) and "." in kind:
        raise CannotTell(Unseen(source_of(kind, by), f"the token provider class {kind}"))
    raise Broken(source_of(kind, by), f"the transport's auth type {kind!r} is not one the client knows")


def _build(config: object, by: str) -> Resolved:
    """The transport the client's factory builds from one transport configuration."""
    config = seen(config)
    if not config:
        return Resolved("console", by)
    if not isinstance(config, dict):
        raise Broken(by, "a transport configuration is not a mapping")
    if "type" not in config:
        raise Broken(by, "a transport has no type")
    kind = seen(config["type"])
    by = source_of(kind, by)
    try:
        int(seen(config.get("priority", 0)))  # type: ignore[call-overload]
    except (TypeError, ValueError):
        raise Broken(by, "the transport's priority is not a number") from None
    if not isinstance(kind, str):
        raise Broken(by, f"the transport type {kind!r} is not a name")
    if kind in HTTP_KINDS:
        if "url" not in config:
            raise Broken(by, f"the {kind} transport has no URL", no_url=True)
        url = config["url"]
        if not isinstance(url, Unseen) and not (isinstance(url, str) and _valid_url(url)):
            raise Broken(source_of(url, by), f"the {kind} transport's URL is not a URL with a scheme and a host")
        compression = config.get("compression")
        if compression and seen(compression) != "gzip":
            raise Broken(source_of(compression, by), f"the {kind} transport's compression is not gzip")
        endpoint, auth = config.get("endpoint"), config.get("auth", {})
        connection = auth.get("apiKey") if isinstance(auth, dict) else None
        return Resolved(kind, by, url=source_of(url, by), key=_token(auth, by),
                        endpoint=None if "endpoint" not in config else source_of(endpoint, by),
                        connection=str(connection) if isinstance(connection, ConnectionKey) else None)
    if kind == "composite":
        if "transports" not in config:
            raise Broken(by, "the composite transport has no transports")
        transports = seen(config["transports"])
        if isinstance(transports, dict):
            children = [_build(child, by) for child in transports.values() if seen(child)]
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


def client_disabled(env: Mapping[str, object]) -> bool:
    """Whether ``OPENLINEAGE_DISABLED`` switches the client off (it reads only ``true``, in any case)."""
    return str(env.get(CLIENT_DISABLED_VAR, "")).lower().strip() == "true"


def _client(env: Mapping[str, object], user: dict[str, Any] | None, read: Reader) -> Resolved:
    """What ``OpenLineageClient(config=user)`` builds."""
    if client_disabled(env):
        return Resolved("disabled", CLIENT_DISABLED_VAR)
    env = _aliased(env)
    config: dict[str, Any] = dict(user or {})
    dynamic = _dynamic_config(env)
    by = (AIRFLOW_CONFIG_VAR if env.get(AIRFLOW_CONFIG_VAR) else TRANSPORT_JSON_VAR) if user else CLIENT_CONFIG_VAR
    path = seen(env.get(CLIENT_CONFIG_VAR))
    if path:
        assert isinstance(path, Sourced)
        content = file_config(path, read, strict=False)
        if content and not isinstance(content, dict):
            if config or dynamic or not isinstance(content, list):  # a list merges with nothing
                raise Broken(path.source, f"the config file {path} is not a YAML mapping")
            content = None
        if isinstance(content, dict) and content:
            config = _merge(content, config)
    overridden = _overridden(env, config, by) if dynamic and config else {}
    if dynamic:
        config = _merge(dynamic, config)
    transport = seen(config.get("transport"))
    if transport:
        if not isinstance(transport, dict):
            raise Broken(source_of(transport, TRANSPORT_PREFIX), "the transport configuration is not a mapping")
        if seen(transport.get("type")):
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


def resolve(env: Mapping[str, str | Unseen], read: Reader, airflow: bool = True) -> Resolved:
    """The transport the agent builds (``airflow``: the provider's view; else ``OpenLineageClient()``'s)."""
    tagged = {name: Sourced(value, name) if isinstance(value, str) else value for name, value in env.items()}
    try:
        if airflow:
            off = airflow_disabled(tagged)
            if off is not None:
                off.partly = off.by is not None and not client_disabled(tagged)
                return off
        return _client(tagged, airflow_config(tagged, read) if airflow else None, read)
    except CannotTell as exc:
        return Resolved("unseen", exc.value.source, problem=exc.value.what)
    except Broken as exc:
        return Resolved("error", exc.by, problem=exc.problem, no_url=exc.no_url)
