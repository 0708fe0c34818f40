"""StrategyMixin: the base of the suite's strategy mixins (hyperopt parameters, data columns,
fallback risk controls).

freqtrade's hyperopt sends the strategy to its worker processes pickled by value: it registers
the module of every base class of the strategy for cloudpickle, walking ``__bases__`` until a
class named ``IStrategy`` (``HyperOptimizer.hyperopt_pickle_magic``). A mixin based on
``object`` leads that walk on to ``builtins``, and pickling anything by value through
``builtins`` recurses without end ("Could not pickle the task to send it to the workers").
A mixin based on ``IStrategy`` stops the walk. It is never instantiated on its own.
"""

from __future__ import annotations

from freqtrade.strategy import IStrategy


class StrategyMixin(IStrategy):  # noqa: B024 - abstract by inheritance, never instantiated
    """A part of a suite strategy; see the module docstring for why it derives IStrategy."""
