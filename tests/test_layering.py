"""The layering runs one way (``dev_tools.import_graph``): no package import cycle, no import up
or sideways; the flagship has at most two suite bases; the registry is the one place a signal
is added (its parameters and plot colour follow)."""

from __future__ import annotations

import shutil

from dev_tools import import_graph
from strategies.CentaurEnsemble import CentaurEnsemble
from strategies.signals import REGISTRY
from strategies.signals.parameters import PLOT_COLOURS, SignalParameters

SUITE = tuple(import_graph.LAYERS)


def test_no_package_cycle_and_no_upward_import():
    graph = import_graph.edges()
    assert import_graph.cycles(graph) == []
    assert import_graph.violations(graph) == []
    assert not [b for (a, b) in graph if a == "centaur"], "the kernel imports the suite"


def test_a_new_upward_import_is_caught(tmp_path):
    for package in SUITE:
        shutil.copytree(import_graph.ROOT / package, tmp_path / package,
                        ignore=shutil.ignore_patterns("__pycache__", "results"))
    (tmp_path / "centaur" / "leak.py").write_text("from strategies import ensemble\n")
    (tmp_path / "risk_protections" / "leak.py").write_text("import llm_layer.veto_gate\n")
    graph = import_graph.edges(tmp_path)
    assert any("centaur (layer 0) imports strategies" in v
               for v in import_graph.violations(graph))
    assert any("risk_protections (layer 1) imports llm_layer" in v
               for v in import_graph.violations(graph))
    (tmp_path / "centaur" / "leak.py").unlink()
    (tmp_path / "risk_protections" / "leak.py").unlink()
    assert import_graph.cycles(import_graph.edges(tmp_path)) == []
    (tmp_path / "strategies" / "leak.py").write_text("import research.walk_forward\n")
    assert ["research", "strategies"] in import_graph.cycles(import_graph.edges(tmp_path))


def test_the_flagship_has_at_most_two_suite_bases():
    suite_bases = [base for base in CentaurEnsemble.__bases__
                   if base.__module__.split(".")[0] in SUITE]
    assert len(suite_bases) <= 2, suite_bases


def test_every_registered_signal_brings_its_parameters_and_colour():
    for name, entry in REGISTRY.items():
        declared = {attr for attr, value in vars(entry.parameters).items()
                    if hasattr(value, "in_space")}
        assert declared, f"{name} declares no hyperopt parameter"
        assert declared <= set(vars(SignalParameters)), (name, declared)
        assert name in PLOT_COLOURS
    assert list(PLOT_COLOURS) == list(REGISTRY)


def test_the_breaker_palette_is_one_registry():
    from centaur.interventions import InterventionKind
    from llm_layer.palette import INTERVENTION_OF, PALETTE, SPECS, Tool

    assert [t.value for t in Tool] == [spec.name for spec in PALETTE]
    for tool, spec in SPECS.items():
        if spec.intervention is not None:
            assert spec.intervention.value == tool.value  # the tool is named after its effect
    assert set(INTERVENTION_OF.values()) == set(InterventionKind)  # every kind has its tool
