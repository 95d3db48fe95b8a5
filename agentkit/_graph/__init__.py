"""The run graph: the nodes of a run, the state they share, the run that drives them and the calls a step makes."""
