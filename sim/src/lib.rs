//! confab-sim: runs many confab engines over turmoil with faults and checkers, replayable from a seed.
