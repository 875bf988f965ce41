"""Exceptions with messages meant for users: each names what was wrong and how to fix it."""


class EdgedetError(Exception):
    """Base class of every error edgedet raises on purpose."""


class InvalidInputError(EdgedetError, ValueError):
    """An argument, frame, file or dataset entry is not what was expected."""


class ModelLoadError(EdgedetError):
    """A model file is missing, truncated, of an unknown kind, or lacks edgedet metadata."""


class MissingDependencyError(EdgedetError, ImportError):
    """An optional package is needed; the message says which pip extra installs it."""


class DownloadError(EdgedetError):
    """A file could not be downloaded, or what arrived is not the published file; the message
    names the URL to fetch by hand and the exact path to put it at."""

    def __init__(self, message: str, url: str, path: str):
        super().__init__(message)
        self.url, self.path = url, path


class InterruptedAfterWriting(KeyboardInterrupt):
    """Ctrl-C after an output file was completely written (e.g. during the parity report
    that follows a conversion): the file is kept, and the message says so."""

    def __init__(self, kept: str, step: str):
        super().__init__(f"{kept} was written completely and kept; {step} was not finished")
        self.kept, self.step = kept, step


def require(module: str, extra: str, purpose: str):
    """Import an optional module or raise MissingDependencyError naming the extra to install."""
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise MissingDependencyError(
            f"{purpose} needs the '{module}' package: pip install 'edgedet[{extra}]'"
            f" ({exc})"
        ) from exc


def with_article(noun: str) -> str:
    """``noun`` after "a" or "an", as messages say it: "an ONNX", "a TFLite", "an OpenVINO".
    (By its first letter; "u" takes "a", as in "a USB camera".)"""
    return f"a{'n' if noun[:1].lower() in 'aeio' else ''} {noun}"


def joined(names, conjunction: str = "or") -> str:
    """Names as a sentence lists them: "d0, d1 or lite0" (one name alone, two with the word)."""
    names = [str(n) for n in names]
    if len(names) <= 1:
        return "".join(names)
    return f"{', '.join(names[:-1])} {conjunction} {names[-1]}"
