"""The epochs' freqtrade results, kept beside the study in the same database.

freqtrade's result for one epoch (parameters, metrics per pair, the explanation) is tens of
kilobytes. Optuna loads every trial's attributes whenever a worker lists the trials, so the
results live in their own table (``centaur_study_epochs``: study, trial number, JSON text),
read only by the export. A worker writes the epoch before it tells the loss: a complete trial
always has its epoch; a worker killed in between leaves a row whose trial is failed and
retried under a new number, which the export ignores.
"""

from __future__ import annotations

from sqlalchemy import Column, Integer, MetaData, String, Table, Text, create_engine, select
from sqlalchemy.dialects import postgresql, sqlite

METADATA = MetaData()
EPOCHS = Table(
    "centaur_study_epochs", METADATA,
    Column("study_name", String(512), primary_key=True),
    Column("trial_number", Integer, primary_key=True),
    Column("epoch_json", Text, nullable=False),
)


class EpochStore:
    def __init__(self, url: str):
        self._engine = create_engine(url, pool_pre_ping=True)
        METADATA.create_all(self._engine, checkfirst=True)

    def put(self, study_name: str, trial_number: int, epoch_json: str) -> None:
        row = {"study_name": study_name, "trial_number": trial_number, "epoch_json": epoch_json}
        dialect = postgresql if self._engine.dialect.name == "postgresql" else sqlite
        statement = dialect.insert(EPOCHS).values(**row).on_conflict_do_update(
            index_elements=["study_name", "trial_number"], set_={"epoch_json": epoch_json})
        with self._engine.begin() as connection:
            connection.execute(statement)

    def get(self, study_name: str, trial_number: int) -> str | None:
        with self._engine.connect() as connection:
            return connection.execute(select(EPOCHS.c.epoch_json).where(
                (EPOCHS.c.study_name == study_name)
                & (EPOCHS.c.trial_number == trial_number))).scalar()

    def all(self, study_name: str) -> dict[int, str]:
        with self._engine.connect() as connection:
            rows = connection.execute(select(EPOCHS.c.trial_number, EPOCHS.c.epoch_json)
                                      .where(EPOCHS.c.study_name == study_name))
            return {number: text for number, text in rows}

    def close(self) -> None:
        self._engine.dispose()
