"""Run-time outcomes of steps and solves: an enumeration with a message each, raised once at the end.

Steps and solves return a `RESULTS` item next to their values instead of raising inside
compiled code. The entry point that called them (`integrate`, `smnn.solve`) raises one
`SymdynRuntimeError` at the end, or, when the caller asks for it (`throw=False`), hands
the values back as they are.
"""

from __future__ import annotations

from collections.abc import Callable

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


def raise_if_failed(value, result, describe: Callable[[str, int], SymdynRuntimeError]):
    """`value`, once `result` says that every entry succeeded; else the error `describe(message, index)`
    makes of the first failed entry (its message and flat index in a batch).

    Outside `jit` the result is read on the host and the error is a `SymdynRuntimeError`; inside, a
    compiled program can only raise through `equinox.error_if`, with the result's own message.
    """
    if isinstance(value, jax.core.Tracer):
        return result.error_if(value, result != RESULTS.successful)
    failed = np.asarray(result != RESULTS.successful).ravel()
    if failed.any():
        index = int(np.argmax(failed))
        raise describe(RESULTS[jax.tree.map(lambda entry: jnp.ravel(entry)[index], result)], index)
    return value
