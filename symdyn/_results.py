"""Run-time outcomes of steps and solves: an enumeration with a message each, raised once at the end.

Steps and solves return a `RESULTS` item next to their values instead of raising inside
compiled code. The entry point that called them (`integrate`, `smnn.solve`) raises one
`SymdynRuntimeError` at the end, or, when the caller asks for it (`throw=False`), hands
the values back as they are.
"""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np


class RESULTS(eqx.Enumeration):
    """What became of a step or a solve."""

    successful = ""
    newton_failed = "Newton's method did not converge in an implicit step"
    singular_system = "the normal matrix is not positive definite (too few constraints for the unknowns)"
    nonfinite_input = "the inputs are not all finite"


class SymdynRuntimeError(RuntimeError):
    """A computation failed at run time: an implicit step did not converge, a system was singular.

    Attributes:
        message: what failed, where (the step, the time).
        hint: what to change (an argument of the API; the command line names its own flag).
    """

    def __init__(self, message: str, *, hint: str | None = None):
        self.message, self.hint = message, hint
        super().__init__(message + (f"; {hint}" if hint else ""))


def first_failure(result) -> tuple[str, int] | None:
    """The message of the first failed entry of a (possibly batched) result and its flat index, or None.

    Reads the result on the host: call it outside `jit`.
    """
    failed = np.asarray(result != RESULTS.successful).ravel()
    if not failed.any():
        return None
    index = int(np.argmax(failed))
    item = jax.tree.map(lambda value: jnp.ravel(value)[index], result)
    return RESULTS[item], index


def is_traced(value) -> bool:
    """True inside `jit`, `vmap` or `grad`, where a failure can only be raised by the compiled program."""
    return isinstance(value, jax.core.Tracer)
