"""The suite's freqtrade strategies. One strategy per file, file stem = class name.

freqtrade's resolver loads strategies only from files in ``user_data/strategies`` that define
the class themselves; each strategy here has a two-line subclass file there.
"""
