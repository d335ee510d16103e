"""Model files to exact SymPy models: name resolution, checks, first-order form, printing."""

from ._components import (
    BoundaryCondition as BoundaryCondition,
)
from ._components import (
    Constant as Constant,
)
from ._components import (
    Coordinate as Coordinate,
)
from ._components import (
    Definition as Definition,
)
from ._components import (
    Equation as Equation,
)
from ._components import (
    InitialValue as InitialValue,
)
from ._components import (
    Parameter as Parameter,
)
from ._components import (
    State as State,
)
from ._components import (
    Unknown as Unknown,
)
from ._first_order import FirstOrderSystem as FirstOrderSystem
from ._first_order import Jet as Jet
from ._latex import expression_to_latex as expression_to_latex
from ._load import load as load
from ._load import parse as parse
from ._model import Model as Model
from ._text import expression_to_text as expression_to_text
