"""Code-generation plumbing shared with the layers above (S-MNN templates): not public API."""

from ._context import LoweringContext
from ._source import SymbolTable, compile_module, function_source, module_source

__all__ = ["LoweringContext", "SymbolTable", "compile_module", "function_source", "module_source"]
