"""Registration of the suite's plugins into an unmodified freqtrade.

``bootstrap`` (run from the ``.pth`` file) installs lazy post-import hooks; ``hooks`` holds the
patches they apply; ``targets`` pins every freqtrade name the patches touch, for the contract
tests; ``registry`` records what was registered and logs it once per process.
"""
