"""The control tower: what the human sees and decides - metrics, tiered alerts, the human GO
above a size, reconciliation against the venues, the paper-trading gate and size ramp, the
weekly report, the tax export.

Each part is one module implementing ``TowerPart`` (``control_tower.part``) and one line in
``control_tower.parts.PARTS``. The strategy shell builds a ``ControlTower`` at start-up and
calls it from freqtrade's callbacks; the parts get their collaborators from the ``TowerHost``
(the strategy) and never read the wall clock themselves.
"""
