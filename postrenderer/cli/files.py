"""Files olrender reads and writes: regular files only, within limits, never through a link, never an input.

Inputs (the key file, values files) are read only when regular and within their limits, without
blocking on a named pipe. The log is appended to, and the report replaced, owner-only (0600) and
never through a symbolic link. Neither may be the same file as an input (by device and inode, so a
link under another name is caught too): the report would replace the key file, the log would break
a values file.
"""

from __future__ import annotations

import errno
import os
import stat

from postrenderer.errors import ConfigError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import IO, Any


KEY_FILE_LIMIT = 64 * 1024  # a key is one line: Astro's tokens are a few hundred bytes
VALUES_FILE_LIMIT = 16 * 2**20  # like one document: Helm stores the values in the release, whole
_FILE_KINDS = ((stat.S_ISDIR, "a directory"), (stat.S_ISFIFO, "a named pipe (FIFO)"), (stat.S_ISCHR, "a device"),
               (stat.S_ISBLK, "a device"), (stat.S_ISSOCK, "a socket"), (stat.S_ISLNK, "a symbolic link"))


def file_kind(mode: int) -> str:
    """What a non-regular file is, for messages."""
    return next((what for test, what in _FILE_KINDS if test(mode)), "not a regular file")


def read_text(path: str, setting: str, limit: int) -> str:
    """Read a regular UTF-8 text file named by a setting, of at most limit bytes.

    It is opened without blocking, so that a named pipe nobody writes to is refused instead of
    waiting forever; FIFOs, devices and directories are refused, and so is a file over the limit
    (``/dev/zero`` would otherwise fill the memory).
    """
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        raise ConfigError(f"{setting} {path}: cannot read ({exc.strerror})") from None
    mode = os.fstat(fd).st_mode
    if not stat.S_ISREG(mode):
        os.close(fd)
        raise ConfigError(f"{setting} {path}: {file_kind(mode)}, not a regular file; olrender reads only files")
    with os.fdopen(fd, "rb") as handle:
        try:
            data = handle.read(limit + 1)
        except OSError as exc:
            raise ConfigError(f"{setting} {path}: cannot read ({exc.strerror})") from None
    if len(data) > limit:
        raise ConfigError(f"{setting} {path}: the file is over {_size(limit)}, olrender's limit for it")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise ConfigError(f"{setting} {path}: not UTF-8 text") from None


def _size(limit: int) -> str:
    """A limit in KiB or MiB, for messages."""
    return f"{limit // 2**20} MiB" if limit >= 2**20 else f"{limit // 1024} KiB"


LOG_LINK = "a symbolic link; olrender writes its log only to a real file, never through a link"


def open_log(path: str) -> tuple[IO[str], bool]:
    """Open the log file for appending, created owner-only (0600); also say whether others can read it.

    A symbolic link is refused (``O_NOFOLLOW``): appending through it would write into whatever it
    points to, and a dangling one would create its target. So are files that are not regular (a
    FIFO would block, ``/dev/full`` fails every write) and files with other hard links.
    """
    flags = os.O_WRONLY | os.O_CREAT | os.O_APPEND | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
    try:
        if os.path.islink(path):  # (O_NOFOLLOW refuses it too, where the system has it)
            raise ConfigError(f"--log-file {path}: {LOG_LINK}")
        fd = os.open(path, flags | getattr(os, "O_CLOEXEC", 0), 0o600)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise ConfigError(f"--log-file {path}: {LOG_LINK}") from None
        if exc.errno == errno.ENXIO:  # a FIFO nobody reads
            raise ConfigError(f"--log-file {path}: a named pipe (FIFO), not a regular file") from None
        raise ConfigError(f"--log-file {path}: cannot open ({exc.strerror})") from None
    info = os.fstat(fd)
    problem = None
    if not stat.S_ISREG(info.st_mode):
        problem = f"{file_kind(info.st_mode)}, not a regular file"
    elif info.st_nlink > 1:
        problem = "the file has other names (hard links); olrender appends only to a file of its own"
    if problem:
        os.close(fd)
        raise ConfigError(f"--log-file {path}: {problem}")
    readable = bool(info.st_mode & (stat.S_IRGRP | stat.S_IROTH))
    return os.fdopen(fd, "a", encoding="utf-8", errors="backslashreplace"), readable


def write_private(path: str, text: str, setting: str) -> None:
    """Write a file atomically, owner-only (0600): a new file renamed over path, never through a link.

    An existing symbolic link, directory or other non-regular file at path is refused; a regular file
    is replaced, so its other hard links keep their content.
    """
    try:
        info: os.stat_result | None = os.lstat(path)
    except FileNotFoundError:
        info = None
    except OSError as exc:
        raise ConfigError(f"{setting} {path}: cannot write ({exc.strerror})") from None
    if info is not None and not stat.S_ISREG(info.st_mode):
        raise ConfigError(f"{setting} {path}: {file_kind(info.st_mode)}; olrender writes only a regular file there")
    directory, name = os.path.split(os.path.abspath(path))
    temporary = os.path.join(directory, f".{name}.{os.getpid()}-{os.urandom(4).hex()}.tmp")
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(temporary, flags, 0o600)
        try:
            if hasattr(os, "fchmod"):
                os.fchmod(fd, 0o600)  # whatever the umask
            with os.fdopen(fd, "w", encoding="utf-8", errors="backslashreplace") as handle:
                handle.write(text)
            os.replace(temporary, path)
        except BaseException:
            import contextlib  # (only on this path: start-up cost)

            with contextlib.suppress(OSError):
                os.unlink(temporary)
            raise
    except OSError as exc:
        raise ConfigError(f"{setting} {path}: cannot write ({exc.strerror})") from None



def read_to_eof(source: IO[bytes], limit: int) -> bytes:
    """Read until end of file (or limit bytes), however many writes and pauses it takes.

    A parent may hand over a non-blocking pipe, where a plain ``read()`` returns
    whatever has arrived so far: that would silently cut the stream. The pipe
    is switched to blocking mode, and a read that still finds nothing waits.
    """
    try:
        fd: int | None = source.fileno()
        os.set_blocking(source.fileno(), True)
    except (OSError, ValueError, AttributeError):  # not a real file (tests), or it cannot be switched
        fd = None
    chunks: list[bytes] = []
    size = 0
    while size < limit:
        chunk = source.read(limit - size)
        if chunk is None:  # still non-blocking and nothing there yet
            if fd is not None:
                import select  # (imported only here: most runs never wait)

                select.select([fd], [], [])
            continue
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks)



def refuse_shared_files(options: dict[str, Any], stdin: IO[bytes] | None) -> None:
    """Refuse a --report or --log-file that is the same file as an input (key file, values file, stdin's file).

    Compared by device and inode: a symbolic or hard link under another name is the same file.
    """
    inputs = [(f"--values {path}", path) for path in options.get("values_files") or () if path]
    if options.get("api_key_file"):
        inputs.append((f"--api-key-file {options['api_key_file']}", options["api_key_file"]))
    identities = [(name, _identity(path)) for name, path in inputs]
    try:
        info = os.fstat(stdin.fileno()) if stdin is not None else None
    except (OSError, ValueError, AttributeError):  # not a real file (tests)
        info = None
    if info is not None and stat.S_ISREG(info.st_mode):
        identities.append(("the file on stdin", (info.st_dev, info.st_ino)))
    for option in ("report", "log_file"):
        path = options.get(option)
        identity = _identity(path) if path else None
        for name, other in identities:
            if identity is not None and identity == other:
                setting = f"--{option.replace('_', '-')} {path}"
                raise ConfigError(f"{setting} and {name} are the same file; olrender would overwrite its input. "
                                  f"Give --{option.replace('_', '-')} a file of its own")


def _identity(path: str) -> tuple[int, int] | None:
    """A file's device and inode (through links), or None if it cannot be found."""
    try:
        info = os.stat(path)
    except (OSError, ValueError):
        return None
    return info.st_dev, info.st_ino
