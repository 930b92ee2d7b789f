"""Reading pickles (MLflow's formats) only when asked, and never the known payloads.

A pickle is a program: unpickling calls whatever functions it names. loopml
reads one only with ``trust_pickle=True``, and even then:

1. the opcodes are scanned first (``pickletools.genops``, nothing executed)
   and any global that runs commands, evaluates code, opens files or
   sockets, or imports modules by name is refused;
2. the unpickler's ``find_class`` refuses the same globals, in case the scan
   could not see one.

This stops the well-known payloads (``os.system``, ``subprocess``,
``eval``, ``builtins.getattr`` chains ...). It is not a sandbox: a pickle
can still build arbitrary objects from allowed classes, which is why it
needs the explicit flag.
"""

from __future__ import annotations

import io
import pickle
import pickletools
from pathlib import Path
from typing import Any

from loopml.core.errors import InvalidArgument
from loopml.models._flavor import library_error

_DENIED_MODULES = (
    "os",
    "posix",
    "nt",
    "subprocess",
    "_posixsubprocess",
    "sys",
    "shutil",
    "socket",
    "_socket",
    "ssl",
    "importlib",
    "runpy",
    "pty",
    "ctypes",
    "_ctypes",
    "multiprocessing",
    "marshal",
    "pickle",
    "_pickle",
    "cPickle",
    "dill",
    "code",
    "codeop",
    "webbrowser",
    "asyncio",
    "signal",
    "timeit",
    "pdb",
    "bdb",
    "trace",
    "profile",
    "cProfile",
    "doctest",
    "pip",
    "ensurepip",
    "venv",
    "distutils",
    "setuptools",
    "site",
    "http",
    "urllib",
    "ftplib",
    "smtplib",
    "telnetlib",
    "requests",
    "httpx",
    "tempfile",
    "glob",
    "zipimport",
    "pkgutil",
    "numpy.f2py",
    "numpy.ctypeslib",
    "numpy.distutils",
    "numpy.testing",
    "scipy.io",
    "joblib",
)
_DENIED_BUILTINS = frozenset(
    {
        "eval",
        "exec",
        "execfile",
        "compile",
        "__import__",
        "open",
        "file",
        "getattr",
        "setattr",
        "delattr",
        "globals",
        "locals",
        "vars",
        "input",
        "breakpoint",
        "help",
        "exit",
        "quit",
        "reload",
        "__loader__",
        "__spec__",
    }
)
_DENIED_NAMES = {
    "io": frozenset({"open", "open_code", "FileIO"}),
    "_io": frozenset({"open", "open_code", "FileIO"}),
    "operator": frozenset({"attrgetter", "methodcaller"}),
    "_operator": frozenset({"attrgetter", "methodcaller"}),
    "cloudpickle": frozenset({"load", "loads"}),
    "cloudpickle.cloudpickle": frozenset({"load", "loads"}),
    "numpy": frozenset({"load", "loadtxt", "fromfile", "save", "savez", "savetxt", "memmap"}),
    "pandas": frozenset({"read_pickle", "eval", "read_csv", "read_parquet"}),
    "torch": frozenset({"load"}),
}
_DENIED_PREFIXES = (
    "numpy.lib.npyio",
    "numpy.lib._npyio_impl",
    "pandas.io",
    "pandas.core.computation",
)


_STRING_OPS = frozenset(
    {
        "SHORT_BINUNICODE",
        "BINUNICODE",
        "BINUNICODE8",
        "UNICODE",
        "STRING",
        "SHORT_BINSTRING",
        "BINSTRING",
    }
)


def refused_global(module: str, name: str) -> bool:
    """Whether unpickling may not touch ``module.name``."""
    if module in ("builtins", "__builtin__", "__builtins__"):
        return name.split(".")[0] in _DENIED_BUILTINS
    if any(module == m or module.startswith(m + ".") for m in _DENIED_MODULES):
        return True
    if any(module == p or module.startswith(p + ".") for p in _DENIED_PREFIXES):
        return True
    return name.split(".")[0] in _DENIED_NAMES.get(module, ())


def scan(data: bytes, file: Path) -> None:
    """Refuse a pickle naming a dangerous global, before any byte is unpickled."""
    memo: dict[int, Any] = {}
    pushed: list[Any] = []  # values pushed by recent opcodes (None: not a string)
    try:
        for opcode, arg, _ in pickletools.genops(data):
            name = opcode.name
            if name in ("GLOBAL", "INST"):
                module, _, attr = str(arg).partition(" ")
                _check(module, attr, file)
                pushed.append(None)
            elif name == "STACK_GLOBAL":
                if len(pushed) < 2 or not all(isinstance(v, str) for v in pushed[-2:]):
                    raise _refusal(file, "a global whose name the scan cannot see")
                _check(pushed[-2], pushed[-1], file)
                pushed.append(None)
            elif name in ("EXT1", "EXT2", "EXT4"):
                raise _refusal(file, "the copyreg extension registry")
            elif name in _STRING_OPS:
                pushed.append(arg)
            elif name in ("BINPUT", "LONG_BINPUT", "PUT"):
                memo[int(str(arg))] = pushed[-1] if pushed else None
            elif name == "MEMOIZE":
                memo[len(memo)] = pushed[-1] if pushed else None
            elif name in ("BINGET", "LONG_BINGET", "GET"):
                pushed.append(memo.get(int(str(arg))))
            elif name not in ("PROTO", "FRAME", "STOP"):
                pushed.append(None)
            if len(pushed) > 64:  # only the last two values ever matter
                del pushed[:-2]
    except ValueError as exc:  # genops on a truncated or malformed stream
        raise library_error(file, exc, "pickle") from exc


def _check(module: str, attr: str, file: Path) -> None:
    if refused_global(module, attr):
        raise _refusal(file, f"{module}.{attr}")


def _refusal(file: Path, what: str) -> InvalidArgument:
    return InvalidArgument(
        f"Refusing to unpickle {file.name!r}: it calls {what}, which can run commands or code. "
        "Nothing was loaded. Re-save the model in a safe format (skops, or a native format)."
    )


class _GuardedUnpickler(pickle.Unpickler):
    def __init__(self, stream: io.BytesIO, file: Path) -> None:
        super().__init__(stream)
        self._file = file

    def find_class(self, module: str, name: str) -> Any:
        if refused_global(module, name):
            raise _refusal(self._file, f"{module}.{name}")
        return super().find_class(module, name)


def load_pickle(path: Path, trust_pickle: bool, what: str) -> Any:
    """Unpickle ``path`` if the caller trusts pickles and the scan finds no payload."""
    if not trust_pickle:
        raise InvalidArgument(
            f"{what} is stored as a pickle ({path.name!r}). Unpickling runs code chosen by "
            "whoever wrote the file, so loopml loads pickles only when told to: pass "
            "trust_pickle=True to load_model if you trust where this model came from. "
            "Re-saving it with loopml stores it without pickle."
        )
    if not path.is_file():
        raise InvalidArgument(f"Model file {path.name!r} is missing from {str(path.parent)!r}.")
    data = path.read_bytes()
    scan(data, path)
    try:
        return _GuardedUnpickler(io.BytesIO(data), path).load()
    except InvalidArgument:
        raise
    except ModuleNotFoundError as exc:
        raise InvalidArgument(
            f"Unpickling {path.name!r} needs the module {exc.name!r}, which is not installed "
            f"(a cloudpickle'd model needs cloudpickle; install the model's requirements)."
        ) from exc
    except Exception as exc:  # UnpicklingError, EOFError, errors of the pickled classes
        raise library_error(path, exc, "pickle") from exc
