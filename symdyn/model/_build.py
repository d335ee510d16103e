"""Syntax tree to `Model`: declarations, expressions, semantic checks and the first-order form."""

from __future__ import annotations

import sympy as sp

from .._errors import Source, Span, SymdynSemanticError
from ..language import syntax as syn
from ._components import (
    BoundaryCondition,
    Constant,
    Coordinate,
    Definition,
    Equation,
    InitialValue,
    Input,
    Parameter,
    State,
    Unknown,
)
from ._expressions import BoundaryPoint, Context, ExpressionBuilder
from ._first_order import Jet, jet_of, reduce_to_first_order
from ._model import Model, resolve_values
from ._scope import Declared, Scope
from ._text import expression_to_text

_DOMAIN_KINDS = ("Periodic", "Interval")


def build_model(tree: syn.ModelSyntax, source: Source) -> Model:
    """The `Model` that `tree` describes.

    Raises:
        SymdynSemanticError: an undeclared name, a state without an equation, ...
    """
    return _Builder(tree, source).model()


class _Builder:
    def __init__(self, tree: syn.ModelSyntax, source: Source):
        self.tree = tree
        self.source = source
        self.scope = Scope(source)
        self.time = sp.Symbol("t", real=True)
        self.state_arguments: dict[str, tuple[sp.Symbol, ...]] = {}
        self.bounds: dict[sp.Symbol, tuple[sp.Expr, sp.Expr]] = {}
        self.definitions: dict[str, syn.Definition] = {}
        self.definition_values: dict[str, sp.Expr] = {}
        self.resolving: list[str] = []

    def error(self, message: str, span: Span | None, hint: str | None = None) -> SymdynSemanticError:
        return SymdynSemanticError(message, source=self.source, span=span, hint=hint)

    def statements(self, kind: type) -> list:
        return [s for s in self.tree.statements if isinstance(s, kind)]

    # --- the whole model, in dependency order
    def model(self) -> Model:
        self._declare()
        self.expressions = ExpressionBuilder(
            self.scope, self.source, self.time, self.state_arguments, self.bounds, self._definition
        )
        constants = tuple(self._symbols("constant"))
        parameters = tuple(self._symbols("parameter"))
        unknowns = tuple(self._symbols("unknown"))
        domain = tuple(self._coordinate(c) for c in self.statements(syn.CoordinateDeclaration))
        inputs = tuple(self._input(d, domain) for d in self.statements(syn.InputDeclaration))
        self._resolve_state_arguments()
        equations = tuple(self._equation(e) for e in self.statements(syn.Equation) if not e.boundary)
        states = self._states(equations)
        self._check_cancelled(equations, states)
        initial_values = self._initial_values(states)
        observed = tuple(self._named("observed"))
        conserved = tuple(self._named("conserved"))
        boundary = tuple(self._boundary(e, domain) for e in self.statements(syn.Equation) if e.boundary)
        self._check_defaults(constants, parameters, unknowns)
        self._check_boundaries(states, equations, domain, boundary)
        system = reduce_to_first_order(states, equations, self.source)
        for definition in observed + conserved:
            self._check_first_order(system.to_jets(definition.expression), system.jets, definition)
        self._check_jet_names(system.jets)
        return Model(
            name=self.tree.name.id,
            time=self.time,
            constants=constants,
            parameters=parameters,
            unknowns=unknowns,
            states=states,
            equations=equations,
            initial_values=initial_values,
            observed=observed,
            conserved=conserved,
            domain=domain,
            boundary_conditions=boundary,
            system=system,
            source=self.source,
            inputs=inputs,
        )

    # --- declarations
    def _declare(self) -> None:
        time_declared: syn.Name | None = None
        for statement in self.tree.statements:
            if isinstance(statement, syn.SymbolDeclaration):
                self.scope.declare(statement.kind, statement.name.id, statement.name.span)
            elif isinstance(statement, syn.VariableDeclaration):
                time = statement.arguments[0]
                if time_declared is None:
                    self.scope.declare("time", time.id, time.span)
                    self.time = self.scope.get(time.id).symbol
                    time_declared = time
                elif time.id != time_declared.id:
                    raise self.error(
                        f"`{statement.name.id}` depends on `{time.id}`, another state on `{time_declared.id}`",
                        time.span,
                        f"all states share one independent variable, `{time_declared.id}`, written first",
                    )
                self.scope.declare("state", statement.name.id, statement.name.span)
            elif isinstance(statement, syn.InputDeclaration):
                self.scope.declare("input", statement.name.id, statement.name.span)
            elif isinstance(statement, syn.Definition):
                self.scope.declare(statement.kind, statement.name.id, statement.name.span)
                self.definitions[statement.name.id] = statement
            elif isinstance(statement, syn.CoordinateDeclaration):
                self.scope.declare("coordinate", statement.name.id, statement.name.span)
        if time_declared is None:
            raise self.error(
                f"the model `{self.tree.name.id}` declares no states",
                self.tree.name.span,
                "declare them with `@variables x(t) = 1`",
            )

    def _resolve_state_arguments(self) -> None:
        coordinates = [s for s in self.bounds]
        for declaration in self.statements(syn.VariableDeclaration):
            spatial = declaration.arguments[1:]
            for argument in spatial:
                declared = self.scope.get(argument.id)
                if declared is None or declared.kind != "coordinate":
                    raise self.error(
                        f"`{argument.id}` is not a coordinate of the domain",
                        argument.span,
                        f"declare it, as in `@domain {argument.id} ∈ Periodic(0, 1; points = 64)`",
                    )
            names = [a.id for a in spatial]
            if spatial and names != [c.name for c in coordinates]:
                written = ", ".join([self.time.name] + [c.name for c in coordinates])
                raise self.error(
                    "a field depends on time and every coordinate, in the order of @domain",
                    declaration.span,
                    f"write `{declaration.name.id}({written})`",
                )
            self.state_arguments[declaration.name.id] = (self.time, *(coordinates if spatial else ()))

    def _symbols(self, kind: str):
        where = {"constant": "a constant's value", "parameter": "a parameter's default", "unknown": "an initial guess"}
        context = Context(where[kind], parameters=kind != "constant")
        for declaration in self.statements(syn.SymbolDeclaration):
            if declaration.kind != kind:
                continue
            symbol = self.scope.get(declaration.name.id).symbol
            value = None if declaration.value is None else self.expressions.build(declaration.value, context)
            if kind == "constant":
                if value is None:
                    raise self.error(
                        f"the constant `{symbol.name}` needs a value",
                        declaration.span,
                        f"write `{symbol.name} = ...`, or declare it with @parameters",
                    )
                yield Constant(symbol, value, declaration.span)
            elif kind == "parameter":
                yield Parameter(symbol, value, declaration.span)
            else:
                yield Unknown(symbol, value, declaration.span)

    def _input(self, declaration: syn.InputDeclaration, domain: tuple[Coordinate, ...]) -> Input:
        name = declaration.name.id
        if domain:
            raise self.error(
                f"the input `{name}` drives a PDE; inputs drive ODE models",
                declaration.span,
                "write the forcing as an expression of t and the coordinates in the equations",
            )
        argument = declaration.argument
        if argument is not None and argument.id != self.time.name:
            raise self.error(
                f"the input `{name}` depends on `{argument.id}`; inputs are signals of the time `{self.time.name}`",
                argument.span,
                f"write `{name}({self.time.name})`",
            )
        context = Context(f"the default signal of `{name}`", time=True)
        value = None if declaration.value is None else self.expressions.build(declaration.value, context)
        return Input(self.scope.get(name).symbol, value, declaration.span)

    def _coordinate(self, declaration: syn.CoordinateDeclaration) -> Coordinate:
        kind = declaration.kind.id
        if kind not in _DOMAIN_KINDS:
            raise self.error(
                f"unknown domain `{kind}`",
                declaration.kind.span,
                "a coordinate ranges over `Periodic(a, b; points = n)` or `Interval(a, b; points = n)`",
            )
        if len(declaration.arguments) != 2:
            raise self.error(f"`{kind}` takes its two ends", declaration.span, f"write `{kind}(0, 1; points = 64)`")
        context = Context("a domain bound")
        lower, upper = (self.expressions.build(a, context) for a in declaration.arguments)
        points = None
        for keyword in declaration.keywords:
            if keyword.name.id != "points":
                raise self.error(
                    f"unknown setting `{keyword.name.id}`", keyword.name.span, "the setting is `points = n`"
                )
            value = self.expressions.build(keyword.value, Context("the number of points", parameters=False))
            if not (value.is_Integer and value >= 2):
                raise self.error("the number of points is a whole number, 2 or more", keyword.value.span)
            points = int(value)
        if points is None:
            raise self.error("a coordinate needs its number of grid points", declaration.span, "add `; points = 64`")
        if (upper - lower).is_number and not (upper - lower) > 0:
            raise self.error("the upper end of the domain must lie above the lower end", declaration.span)
        symbol = self.scope.get(declaration.name.id).symbol
        self.bounds[symbol] = (lower, upper)
        return Coordinate(symbol, kind, lower, upper, points, declaration.span)

    # --- states and equations
    def _equation(self, equation: syn.Equation) -> Equation:
        context = Context("an equation", states=True, time=True, coordinates=True, derivatives=True, definitions=True)
        lhs = self.expressions.build(equation.lhs, context)
        rhs = self.expressions.build(equation.rhs, context)
        return Equation(lhs, rhs, equation.span)

    def _states(self, equations: tuple[Equation, ...]) -> tuple[State, ...]:
        declarations = self.statements(syn.VariableDeclaration)
        orders = {d.name.id: 0 for d in declarations}
        names = {d.name.id: d for d in declarations}
        for equation in equations:
            for derivative in (equation.lhs - equation.rhs).atoms(sp.Derivative):
                name = derivative.expr.func.__name__
                if name in orders:
                    order = sum(int(n) for v, n in derivative.variable_count if v == self.time)
                    orders[name] = max(orders[name], order)
        return tuple(
            State(self.scope.get(name).function, self.state_arguments[name], orders[name], names[name].name.span)
            for name in orders
        )

    def _check_cancelled(self, equations: tuple[Equation, ...], states: tuple[State, ...]) -> None:
        """`D(x) ~ D(x) + 1`: derivatives written on both sides that cancel, leaving a state or an equation
        without its highest derivative, are named here rather than blamed on the state or the equation."""
        by_name = {s.name: s for s in states}
        for equation in equations:
            residual = equation.lhs - equation.rhs
            kept = residual.atoms(sp.Derivative)
            written = equation.lhs.atoms(sp.Derivative) | equation.rhs.atoms(sp.Derivative)
            highest = any(
                (jet := jet_of(d, by_name)) is not None and not jet.space and jet.time_order == jet.state.order
                for d in kept
            )
            jets = [(d, jet) for d in written - kept if (jet := jet_of(d, by_name)) is not None]
            for derivative, jet in sorted(jets, key=lambda j: (-j[1].time_order, sp.default_sort_key(j[0]))):
                if not (jet.time_order > jet.state.order or (not highest and not jet.space)):
                    continue
                text = expression_to_text(derivative)
                raise self.error(
                    f"the {text} terms of this equation cancel",
                    equation.span,
                    f"what is left, `{expression_to_text(residual)} ~ 0`, has no {text}; write {text} on one side",
                )

    def _initial_values(self, states: tuple[State, ...]) -> tuple[InitialValue, ...]:
        by_name = {s.name: s for s in states}
        found: dict[sp.Expr, InitialValue] = {}

        def add(target: sp.Expr, value_node: syn.Expression, state: State, span: Span) -> None:
            context = Context("an initial value", coordinates=bool(state.coordinates))
            value = self.expressions.build(value_node, context)
            if target in found:
                first = found[target].span
                raise self.error(
                    "a second initial value for the same quantity",
                    span,
                    f"the first is on line {first.line}" if first else None,
                )
            found[target] = InitialValue(target, value, span)

        for declaration in self.statements(syn.VariableDeclaration):
            if declaration.value is not None:
                state = by_name[declaration.name.id]
                add(state.applied, declaration.value, state, declaration.span)
        for item in self.statements(syn.InitialValue):
            context = Context("the target of @initial", states=True, derivatives=True)
            target = self.expressions.build(item.target, context)
            jet = jet_of(target, by_name)
            if jet is None or jet.space:
                raise self.error(
                    "@initial gives values to states and their time derivatives",
                    item.target.span,
                    "write `x = 1` or `D(x) = 0`",
                )
            if jet.time_order >= jet.state.order:
                raise self.error(
                    f"`{jet.state.name}` is of order {jet.state.order}: its initial state has "
                    + ("no derivatives" if jet.state.order == 1 else f"derivatives up to order {jet.state.order - 1}"),
                    item.target.span,
                )
            add(target, item.value, jet.state, item.span)

        order = {s.name: i for i, s in enumerate(states)}

        def key(initial: InitialValue) -> tuple[int, int]:
            jet = jet_of(initial.target, by_name)
            return order[jet.state.name], jet.time_order

        return tuple(sorted(found.values(), key=key))

    # --- observed and conserved quantities, built once on first use
    def _definition(self, declared: Declared, span: Span) -> sp.Expr:
        name = declared.name
        if name in self.definition_values:
            return self.definition_values[name]
        if name in self.resolving:
            chain = " → ".join(self.resolving[self.resolving.index(name) :] + [name])
            raise self.error(f"`{name}` is defined in terms of itself ({chain})", span)
        self.resolving.append(name)
        definition = self.definitions[name]
        context = Context(
            f"the {definition.kind} quantity `{name}`",
            states=True,
            time=True,
            coordinates=True,
            derivatives=True,
            integrals=True,
            definitions=True,
        )
        value = self.expressions.build(definition.value, context)
        self.resolving.pop()
        self.definition_values[name] = value
        return value

    def _named(self, kind: str):
        for definition in self.statements(syn.Definition):
            if definition.kind == kind:
                declared = self.scope.get(definition.name.id)
                value = self._definition(declared, definition.name.span)
                yield Definition(declared.symbol, value, definition.span)

    # --- boundary conditions
    def _boundary(self, equation: syn.Equation, domain: tuple[Coordinate, ...]) -> BoundaryCondition:
        context = Context(
            "a boundary condition", states=True, time=True, coordinates=True, derivatives=True, boundary=True
        )
        points: list[BoundaryPoint] = []
        lhs = self.expressions.build(equation.lhs, context, points)
        rhs = self.expressions.build(equation.rhs, context, points)
        if not points:
            raise self.error(
                "a boundary condition evaluates a field at a boundary point",
                equation.span,
                "write the point into the field's arguments: `u(t, 0) ~ 0` or `∂x(u(t, 1)) ~ 0`",
            )
        first = points[0]
        coordinate = next(c for c in domain if c.symbol == first.coordinate)
        for point in points[1:]:
            if point.coordinate != first.coordinate or sp.simplify(point.value - first.value) != 0:
                raise self.error("a boundary condition holds at one point", point.span, "split it into one per point")
        if coordinate.periodic:
            raise self.error(
                f"`{coordinate.name}` is periodic: it has no boundary",
                first.span,
                "declare it with `Interval(a, b; points = n)` to give boundary conditions",
            )
        ends = [end for end in (coordinate.lower, coordinate.upper) if sp.simplify(first.value - end) == 0]
        if not ends:
            raise self.error(
                f"boundary conditions hold at the ends of `{coordinate.name}`",
                first.span,
                f"the ends are {coordinate.lower} and {coordinate.upper}",
            )
        return BoundaryCondition(coordinate.symbol, ends[0], lhs, rhs, equation.span)

    def _check_boundaries(self, states, equations, domain, boundary) -> None:
        for coordinate in (c for c in domain if not c.periodic):
            for state in (s for s in states if s.coordinates):
                order = 0
                for equation in equations:
                    for derivative in (equation.lhs - equation.rhs).atoms(sp.Derivative):
                        jet = jet_of(derivative, {state.name: state})
                        if jet is not None:
                            order = max(order, dict(jet.space).get(coordinate.symbol, 0))
                conditions = [
                    b for b in boundary if b.coordinate == coordinate.symbol and (b.lhs - b.rhs).has(state.function)
                ]
                needed = [coordinate.lower, coordinate.upper] if order >= 2 else []
                missing = [end for end in needed if not any(b.at == end for b in conditions)]
                if order == 1 and not conditions:
                    missing = [coordinate.lower]
                if missing:
                    end = missing[0]
                    args = ", ".join(str(end) if a == coordinate.symbol else a.name for a in state.arguments)
                    raise self.error(
                        f"`{state.name}` has derivatives in `{coordinate.name}` but no boundary condition at "
                        f"{coordinate.name} = {end}",
                        state.span,
                        f"add `@boundary {state.name}({args}) ~ 0` (Dirichlet) or "
                        f"`@boundary ∂{coordinate.name}({state.name}({args})) ~ 0` (Neumann)",
                    )

    # --- checks on the whole
    def _check_defaults(self, constants, parameters, unknowns) -> None:
        """Every value must come down to a number: no cycles, no parameter without a default on the way."""
        _, unresolved = resolve_values(constants, parameters, unknowns)
        if not unresolved:
            return
        spans = {d.symbol: d.span for d in (*constants, *parameters, *unknowns)}
        without_default = {p.symbol for p in parameters if p.default is None}
        for symbol, value in unresolved.items():
            missing = sorted(value.free_symbols & without_default, key=str)
            if missing:
                message = f"the value of `{symbol.name}` uses `{missing[0].name}`, which has no default"
                raise self.error(message, spans[symbol])
        symbol = next(iter(unresolved))
        raise self.error(f"the value of `{symbol.name}` depends on itself", spans[symbol])

    def _check_first_order(self, expr: sp.Expr, jets: dict[sp.Symbol, Jet], definition: Definition) -> None:
        for symbol in expr.free_symbols:
            jet = jets.get(symbol)
            if jet is not None and jet.time_order >= jet.state.order:
                raise self.error(
                    f"`{definition.name}` uses a derivative of `{jet.state.name}` of order {jet.time_order}, "
                    "which is not part of the state",
                    definition.span,
                    f"use derivatives of `{jet.state.name}` below order {jet.state.order}",
                )

    def _check_jet_names(self, jets: dict[sp.Symbol, Jet]) -> None:
        for symbol, jet in jets.items():
            declared = self.scope.get(symbol.name)
            if declared is not None and (jet.time_order or jet.space):
                raise self.error(
                    f"`{symbol.name}` is the name of a derivative of `{jet.state.name}` in the first-order form",
                    declared.span,
                    "choose another name",
                )
