"""symdyn: dynamical systems from model files to exact Jacobians and JAX.

The public names resolve on first use (PEP 562): `import symdyn` loads neither JAX nor SymPy,
so that the command line starts at once; `from symdyn import Model` imports what `Model` needs.
"""

from importlib import import_module
from importlib.metadata import PackageNotFoundError, version

from ._errors import SymdynError, SymdynSemanticError, SymdynSyntaxError

try:
    __version__ = version("symdyn")
except PackageNotFoundError:  # a source tree that was never installed
    __version__ = "0+unknown"

_LAZY = {  # public name -> the submodule that defines it
    "RESULTS": "._results",
    "SymdynRuntimeError": "._results",
    "device_mesh": "._distributed",
    "initialize_distributed": "._distributed",
    "is_writer": "._distributed",
    "discover": ".discovery",
    "Model": ".model",
    "load": ".model",
    "parse": ".model",
}

__all__ = [
    "RESULTS",
    "Model",
    "SymdynError",
    "SymdynRuntimeError",
    "SymdynSemanticError",
    "SymdynSyntaxError",
    "device_mesh",
    "discover",
    "initialize_distributed",
    "is_writer",
    "load",
    "parse",
]


def __getattr__(name: str):
    if name not in _LAZY:
        raise AttributeError(f"module 'symdyn' has no attribute {name!r}")
    value = getattr(import_module(_LAZY[name], __name__), name)
    globals()[name] = value  # resolved once; later look-ups do not come here
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
